// Values and the Secret of Hetzner's cloud controller manager (hcloud-cloud-controller-manager
// chart v1.35.0, toolchain/versions.json). Pure: tests deep-equal them. Sources, at tag v1.35.0 of
// hetznercloud/hcloud-cloud-controller-manager: chart/values.yaml, chart/templates/deployment.yaml,
// internal/config/config.go (the environment it reads), docs/reference/load_balancer_envs.md,
// docs/explanation/private-networks.md, docs/explanation/robot-support.md, docs/guides/robot/
// quickstart.md and private-networks.md (Robot servers in the same cluster).
import { KUBEPRISM_PORT } from "../talos/patches";
import type { Toleration } from "./scheduling";
import type { Values } from "./values";

/** The Secret the chart's env reads: kube-system/hcloud, keys `token` and `network` (values.yaml env, networking.network). */
export const HCLOUD_SECRET = { name: "hcloud", namespace: "kube-system" } as const;

/**
 * The chart's own tolerations (templates/deployment.yaml, not a value): it must run on nodes no
 * cloud controller has initialized yet, and on control planes. additionalTolerations adds to them.
 */
export const HCLOUD_CCM_TOLERATIONS: readonly Toleration[] = [
  { key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" },
  { key: "CriticalAddonsOnly", operator: "Exists" },
  { key: "node-role.kubernetes.io/master", effect: "NoSchedule", operator: "Exists" },
  { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule", operator: "Exists" },
  { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
];

export interface HcloudCcmFacts {
  /** Where its load balancers are created: the stack's hetzner.location. */
  readonly location: string;
  /** The servers' private subnet (hetzner.subnetCidr): load balancers join it and reach the nodes through it. */
  readonly subnetCidr: string;
  /** cluster.podCidr: the chart passes it as --cluster-cidr when networking is on. */
  readonly podCidr: string;
  /**
   * The stack has dedicated servers (hetzner.dedicated): Robot support on, so the controller
   * initializes their Nodes (matched by the server's Robot name, which the program sets to the
   * node name) instead of leaving them tainted uninitialized. Default: false.
   */
  readonly robot?: boolean;
}

/** The Robot webservice login the controller reads (chart values.yaml env ROBOT_USER/ROBOT_PASSWORD: Secret hcloud, keys robot-user and robot-password). */
export interface RobotLogin {
  readonly user: string;
  readonly password: string;
}

/**
 * The Secret's data: the API token and the private network's ID (HCLOUD_NETWORK takes a name or
 * an ID), and with dedicated servers the Robot login (the controller refuses one without the
 * other: internal/config/config.go, "both ... must be provided, or neither").
 */
export function hcloudSecretData(token: string, networkId: string, robot?: RobotLogin): Record<string, string> {
  return { token, network: networkId, ...(robot ? { "robot-user": robot.user, "robot-password": robot.password } : {}) };
}

/**
 * networking.enabled: HCLOUD_NETWORK from the Secret, so nodes get their private address as
 * InternalIP and load balancers can use the private network; it also puts the pod on the host
 * network, so it needs no pod network of its own. Its route controller stays off: Cilium tunnels pod
 * traffic (no native routing), so Hetzner routes for pod CIDRs would only use up the network's
 * route slots. Load balancers: in the stack's location, in the servers' subnet, targeting the
 * nodes' private addresses: the firewall admits only the APIs on the public interfaces, and
 * Hetzner firewalls do not filter private networks. The API server through KubePrism, as Cilium
 * reaches it: there is no service IP before the CNI runs.
 */
export function hcloudCcmValues(facts: HcloudCcmFacts): Values {
  return {
    // With Robot servers the route controller must stay off (config.go refuses Routes with Robot;
    // it is off here anyway), and Robot addresses come from the Robot API.
    ...(facts.robot ? { robot: { enabled: true } } : {}),
    networking: { enabled: true, clusterCIDR: facts.podCidr },
    env: {
      HCLOUD_NETWORK_ROUTES_ENABLED: { value: "false" },
      HCLOUD_LOAD_BALANCERS_LOCATION: { value: facts.location },
      HCLOUD_LOAD_BALANCERS_PRIVATE_SUBNET_IP_RANGE: { value: facts.subnetCidr },
      HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP: { value: "true" },
      KUBERNETES_SERVICE_HOST: { value: "localhost" },
      KUBERNETES_SERVICE_PORT: { value: String(KUBEPRISM_PORT) },
    },
  };
}
