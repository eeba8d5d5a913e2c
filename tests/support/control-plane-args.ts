// Command lines and files of the test control plane (tests/support/control-plane.ts), as pure
// functions of its ports and files. Every flag named here is the component's own (its --help at
// the versions in toolchain/versions.json testTools).

/** Loopback ports, chosen free at run time. */
export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
}

/** Files in the control plane's temp dir. */
export interface Files {
  readonly etcdData: string;
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly tokens: string;
  readonly controllerManagerKubeconfig: string;
  readonly schedulerKubeconfig: string;
  readonly kwokKubeconfig: string;
  readonly kwokConfig: string;
}

/** The Service range of the test cluster (Talos's default, cluster.network.serviceSubnets). */
export const SERVICE_CIDR = "10.96.0.0/12";

/** One etcd member on loopback; fsync off, its data is thrown away with the dir. */
export function etcdArgs(name: string, ports: Ports, files: Files): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    `--name=${name}`,
    `--data-dir=${files.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    "--unsafe-no-fsync",
  ];
}

/**
 * kube-apiserver with RBAC, static tokens (tokens.csv) for its clients, our serving certificate
 * for 127.0.0.1 and a service-account key. --endpoint-reconciler-type=none: the `kubernetes`
 * Service's Endpoints may not hold a loopback address (API validation refuses it).
 */
export function apiserverArgs(ports: Ports, files: Files): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--token-auth-file=${files.tokens}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${files.serviceAccountPub}`,
    `--service-account-signing-key-file=${files.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--endpoint-reconciler-type=none",
    "--allow-privileged=true",
    "--profiling=false",
  ];
}

/**
 * kube-controller-manager with every default controller, each under its own service account as
 * Talos runs it; no leader election (one instance). --node-monitor-period=1s: taints of a node
 * that just became Ready go within a second instead of five.
 */
export function controllerManagerArgs(name: string, ports: Ports, files: Files): string[] {
  return [
    `--kubeconfig=${files.controllerManagerKubeconfig}`,
    `--authentication-kubeconfig=${files.controllerManagerKubeconfig}`,
    `--authorization-kubeconfig=${files.controllerManagerKubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.controllerManager}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    "--leader-elect=false",
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${files.serviceAccountKey}`,
    `--root-ca-file=${files.caCert}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--cluster-name=${name}`,
    "--node-monitor-period=1s",
    "--profiling=false",
  ];
}

/** kube-scheduler, one instance, no leader election. */
export function schedulerArgs(ports: Ports, files: Files): string[] {
  return [
    `--kubeconfig=${files.schedulerKubeconfig}`,
    `--authentication-kubeconfig=${files.schedulerKubeconfig}`,
    `--authorization-kubeconfig=${files.schedulerKubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.scheduler}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
}

/**
 * kwok managing only the nodes annotated `kwok.x-k8s.io/node=fake` (the ones addNode creates),
 * with our stages (kwok-stages.ts); it renews each node's Lease every 10 s (40 s leases, as a
 * kubelet). Its health endpoint on 127.0.0.1 tells when it runs.
 */
export function kwokArgs(ports: Ports, files: Files, managedAnnotation: string): string[] {
  return [
    `--kubeconfig=${files.kwokKubeconfig}`,
    `--config=${files.kwokConfig}`,
    `--manage-nodes-with-annotation-selector=${managedAnnotation}=fake`,
    "--manage-all-nodes=false",
    "--node-lease-duration-seconds=40",
    `--server-address=127.0.0.1:${ports.kwok}`,
  ];
}

/** A client of the test API server, as the components and kubectl read it. */
export interface KubeconfigUser {
  readonly cluster: string;
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly token: string;
}

/** A kubeconfig (YAML) with one cluster, one token user and that context current. */
export function kubeconfigYaml(k: KubeconfigUser): string {
  const ca = Buffer.from(k.caPem, "utf8").toString("base64");
  const context = `${k.user}@${k.cluster}`;
  return `apiVersion: v1
kind: Config
clusters:
- name: ${k.cluster}
  cluster:
    server: ${k.server}
    certificate-authority-data: ${ca}
users:
- name: ${k.user}
  user:
    token: ${k.token}
contexts:
- name: ${context}
  context:
    cluster: ${k.cluster}
    user: ${k.user}
current-context: ${context}
`;
}

/** One line of --token-auth-file: token,user,uid,"group,..." */
export interface TokenUser {
  readonly token: string;
  readonly user: string;
  readonly groups: readonly string[];
}

export function tokenFile(users: readonly TokenUser[]): string {
  return users.map((u) => `${u.token},${u.user},${u.user},"${u.groups.join(",")}"`).join("\n") + "\n";
}
