// Stand-in for the CRD Talos installs itself (bootstrap manifest "13-talos-service-account-crd",
// when machine.features.kubernetesTalosAPIAccess is on), for the add-on engine test, whose control
// plane has no Talos. Written from siderolabs/talos v1.14.0 (Go module zip):
// internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/crds.go
// (TalosServiceAccountCRDTemplate) and pkg/machinery v1.14.1 constants/constants.go
// (ServiceAccountResource*: group talos.dev, version v1alpha1, kind ServiceAccount, plural
// serviceaccounts, short name tsa). The same schema, so the API server refuses what it refuses
// there: a spec or status that is not an object, roles that are not a list of strings, a
// failureReason that is not a string; namespaced, one version served and stored, no conversion.

/** The CRD as Talos's template builds it. */
export function talosServiceAccountCrd() {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "serviceaccounts.talos.dev" },
    spec: {
      conversion: { strategy: "None" },
      group: "talos.dev",
      names: { kind: "ServiceAccount", listKind: "ServiceAccountList", plural: "serviceaccounts", singular: "serviceaccount", shortNames: ["tsa"] },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", properties: { roles: { type: "array", items: { type: "string" } } } },
                status: { type: "object", properties: { failureReason: { type: "string" } } },
              },
            },
          },
        },
      ],
    },
  };
}
