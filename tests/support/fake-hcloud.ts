// A fake Hetzner Cloud API on loopback (plain HTTP): the part the Talos snapshot build uses
// (toolchain/providers/hcloudimage). Written from Hetzner's public API reference and the public
// Go client, not from our provider: it takes what they document and refuses the rest.
//
// Sources (short names used below):
//   DOC  docs.hetzner.cloud, the Hetzner Cloud API reference (its OpenAPI text as mirrored at
//        api.apis.guru/v2/specs/hetzner.cloud/1.0.0.json): "Authentication" (Bearer token, 401
//        unauthorized), "Errors" (codes invalid_input, json_error, not_found, unauthorized, locked,
//        uniqueness_error; the error object {code, message, details}), "Labels" (key/value syntax,
//        label_selector k=v), "Actions" (status running|success|error, GET /actions?id=),
//        "Servers" (POST /servers with start_after_create, ssh_keys, labels; DELETE /servers/{id}
//        answers an action), "Server Actions" (enable_rescue {type linux64, ssh_keys} answering
//        root_password, poweron, poweroff, create_image {type snapshot|backup, description,
//        labels} answering image + action), "SSH Keys", "Images" (GET ?type=&label_selector=,
//        DELETE answers 204).
//   HG   hetznercloud/hcloud-go v2.36.0: hcloud/schema/{server,action,image,ssh_key,error}.go (the
//        JSON shapes), hcloud/labels.go (the label regular expressions), hcloud/error.go (codes),
//        hcloud/action_waiter.go (the client polls GET /actions?id=...&sort=status&sort=id).
//
// | route                                       | answers                                    | refuses |
// |---------------------------------------------|--------------------------------------------|---------|
// | any, no/wrong Bearer token                  | —                                          | 401 unauthorized (DOC Authentication) |
// | POST /ssh_keys {name, public_key, labels?}  | 201 {ssh_key}                              | 400 invalid_input (missing field, bad key, labels), 409 uniqueness_error (name) |
// | DELETE /ssh_keys/{id}                       | 204                                        | 404 not_found |
// | POST /servers {name, server_type, image, location?, ssh_keys?, start_after_create?, labels?} | 201 {server, action, next_actions, root_password: null} | 400 invalid_input (unknown server_type / location / image, bad labels), 409 uniqueness_error, 404 not_found (ssh key) |
// | POST /servers/{id}/actions/enable_rescue    | 201 {action, root_password}                | 400 invalid_input (type), 404 |
// | POST /servers/{id}/actions/poweron|poweroff | 201 {action}                               | 404 |
// | POST /servers/{id}/actions/create_image     | 201 {image, action}                        | 400 invalid_input (type, labels), 404 |
// | DELETE /servers/{id}                        | 200 {action}                               | 404 |
// | GET /actions?id=..., GET /actions/{id}      | {actions} / {action}; a running action is done at its first poll | 404 |
// | GET /images?type=&label_selector=           | {images, meta}                             | — |
// | GET /images/{id}, DELETE /images/{id}       | {image} / 204                              | 404 |
// Anything else: 404 not_found. Every call is recorded (method, path, query, body).
// Not Hetzner's: POST /_test/marker, without a token, only recorded (a test program's resources
// report there, so their place among the API calls is known).
import * as http from "node:http";
import { AddressInfo } from "node:net";

/** One call as the fake received it. */
export interface HcloudCall {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: any;
}

export interface FakeHcloudOptions {
  /** The token every call must carry as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** The public IPv4 of every server (the rescue system the provider dials). Default: 127.0.0.1. */
  readonly serverIpv4?: string;
  /** Commands (e.g. "create_image") whose action ends in error, as Hetzner reports a failed action. */
  readonly failActions?: readonly string[];
  /**
   * Called when a server is powered on with the rescue system enabled, with the public keys of
   * the SSH keys enable_rescue named: what Hetzner puts in the rescue system's authorized_keys.
   */
  readonly onRescueBoot?: (server: ServerRecord, publicKeys: string[]) => void;
}

export interface ServerRecord {
  id: number;
  name: string;
  serverType: string;
  architecture: "x86" | "arm";
  location: string;
  labels: Record<string, string>;
  sshKeys: number[];
  /** The keys enable_rescue named. */
  rescueKeys: number[];
  status: "off" | "running";
  rescueEnabled: boolean;
  /** Whether the server was powered on with the rescue system enabled (it then boots it). */
  bootedRescue: boolean;
}

export interface ImageRecord {
  id: number;
  type: "snapshot" | "backup";
  description: string;
  labels: Record<string, string>;
  architecture: "x86" | "arm";
  createdFrom: { id: number; name: string };
}

/** Server types the fake knows, with their architecture (Hetzner's CAX line is Arm, DOC "Server Types"). */
export const SERVER_TYPES: Record<string, "x86" | "arm"> = {
  cx23: "x86", cx33: "x86", cpx11: "x86", cpx21: "x86", cpx31: "x86", cpx41: "x86", ccx13: "x86",
  cax11: "arm", cax21: "arm", cax31: "arm", cax41: "arm",
};
export const LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"];
const SYSTEM_IMAGES = ["debian-12", "debian-13", "ubuntu-24.04"];

// HG labels.go: a key is an optional DNS-like prefix and "/", then a name of at most 63
// characters; a value is empty or at most 63 characters; both start and end alphanumeric.
const LABEL_KEY = /^([a-z0-9A-Z]((?:[-_.]|[a-z0-9A-Z]){0,253}[a-z0-9A-Z])?\/)?[a-z0-9A-Z]((?:[-_.]|[a-z0-9A-Z]){0,61}[a-z0-9A-Z])?$/;
const LABEL_VALUE = /^(([a-z0-9A-Z](?:[-_.]|[a-z0-9A-Z]){0,61})?[a-z0-9A-Z])?$/;

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

const invalid = (field: string, message: string) => new ApiError(400, "invalid_input", `invalid input in field '${field}'`, { fields: [{ name: field, messages: [message] }] });
const notFound = (kind: string, id: number | string) => new ApiError(404, "not_found", `${kind} with ID '${id}' not found`);

export class FakeHcloud {
  readonly calls: HcloudCall[] = [];
  readonly servers = new Map<number, ServerRecord>();
  readonly sshKeys = new Map<number, { id: number; name: string; publicKey: string; labels: Record<string, string> }>();
  readonly images = new Map<number, ImageRecord>();
  private readonly actions = new Map<number, { id: number; command: string; status: "running" | "success" | "error"; resources: { id: number; type: string }[] }>();
  private nextId = 1000;
  private server?: http.Server;

  constructor(private readonly options: FakeHcloudOptions) {}

  /** The API endpoint to give the provider, e.g. http://127.0.0.1:PORT/v1. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  /** Where a test program reports (not Hetzner's; see the table above). */
  get marker(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/_test/marker`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The calls as "METHOD path" lines, the form tests compare. */
  callLines(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const text = Buffer.concat(chunks).toString("utf8");
    let body: any;
    const send = (status: number, payload?: unknown) => {
      res.writeHead(status, payload === undefined ? {} : { "content-type": "application/json" });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      this.calls.push({ method: req.method!, path: url.pathname, query: url.search, body: text });
      return send(400, { error: { code: "json_error", message: "invalid JSON input in your request", details: null } });
    }
    this.calls.push({ method: req.method!, path: url.pathname, query: url.search, body });
    if (url.pathname === "/_test/marker") return send(200, {});
    try {
      if (req.headers.authorization !== `Bearer ${this.options.token}`) throw new ApiError(401, "unauthorized", "unable to authenticate");
      const [status, payload] = this.route(req.method!, url, body ?? {});
      send(status, payload);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      send(err.status, { error: { code: err.code, message: err.message, details: err.details ?? null } });
    }
  }

  private route(method: string, url: URL, body: any): [number, unknown] {
    const path = url.pathname.replace(/^\/v1/, "");
    let m: RegExpMatchArray | null;
    if (method === "POST" && path === "/ssh_keys") return [201, { ssh_key: this.createKey(body) }];
    if (method === "DELETE" && (m = path.match(/^\/ssh_keys\/(\d+)$/))) {
      if (!this.sshKeys.delete(Number(m[1]))) throw notFound("ssh_key", m[1]!);
      return [204, undefined];
    }
    if (method === "POST" && path === "/servers") return [201, this.createServer(body)];
    if ((m = path.match(/^\/servers\/(\d+)(\/actions\/([a-z_]+))?$/))) {
      const server = this.servers.get(Number(m[1]));
      if (!server) throw notFound("server", m[1]!);
      if (method === "DELETE" && !m[2]) {
        this.servers.delete(server.id);
        return [200, { action: this.action("delete_server", [{ id: server.id, type: "server" }]) }];
      }
      if (method === "POST" && m[3]) return [201, this.serverAction(server, m[3], body)];
    }
    if (method === "GET" && path === "/actions") {
      const ids = url.searchParams.getAll("id").map(Number);
      return [200, { actions: ids.filter((id) => this.actions.has(id)).map((id) => this.poll(id)), meta: meta(ids.length) }];
    }
    if (method === "GET" && (m = path.match(/^\/actions\/(\d+)$/))) {
      if (!this.actions.has(Number(m[1]))) throw notFound("action", m[1]!);
      return [200, { action: this.poll(Number(m[1])) }];
    }
    if (method === "GET" && path === "/images") {
      const type = url.searchParams.get("type");
      const selector = url.searchParams.get("label_selector");
      const wanted = selector ? selector.split(",").map((term) => term.split("=") as [string, string]) : [];
      const images = [...this.images.values()].filter((i) => (!type || i.type === type) && wanted.every(([k, v]) => i.labels[k] === v));
      return [200, { images: images.map((i) => imageJson(i)), meta: meta(images.length) }];
    }
    if ((m = path.match(/^\/images\/(\d+)$/))) {
      const image = this.images.get(Number(m[1]));
      if (!image) throw notFound("image", m[1]!);
      if (method === "GET") return [200, { image: imageJson(image) }];
      if (method === "DELETE") {
        this.images.delete(image.id);
        return [204, undefined];
      }
    }
    throw new ApiError(404, "not_found", `${method} ${path} not found`);
  }

  private createKey(body: any) {
    if (typeof body.name !== "string" || !body.name) throw invalid("name", "is required");
    if (typeof body.public_key !== "string" || !/^ssh-(ed25519|rsa) [A-Za-z0-9+/=]+/.test(body.public_key)) throw invalid("public_key", "invalid public key");
    checkLabels(body.labels);
    if ([...this.sshKeys.values()].some((k) => k.name === body.name)) throw new ApiError(409, "uniqueness_error", "SSH key with the same name already exists");
    const key = { id: this.nextId++, name: body.name, publicKey: body.public_key, labels: body.labels ?? {} };
    this.sshKeys.set(key.id, key);
    return { id: key.id, name: key.name, fingerprint: "", public_key: key.publicKey, labels: key.labels, created: new Date().toISOString() };
  }

  private createServer(body: any) {
    for (const field of ["name", "server_type", "image"]) {
      if (body[field] === undefined || body[field] === "") throw invalid(field, "is required");
    }
    const architecture = SERVER_TYPES[body.server_type];
    if (!architecture) throw invalid("server_type", `server type '${body.server_type}' not found`);
    const location = body.location ?? "fsn1";
    if (!LOCATIONS.includes(location)) throw invalid("location", `location '${location}' not found`);
    if (!SYSTEM_IMAGES.includes(String(body.image)) && !this.images.has(Number(body.image))) throw invalid("image", `image '${body.image}' not found`);
    checkLabels(body.labels);
    if ([...this.servers.values()].some((s) => s.name === body.name)) throw new ApiError(409, "uniqueness_error", "server name is already used");
    const keys = (body.ssh_keys ?? []) as number[];
    for (const k of keys) if (!this.sshKeys.has(Number(k))) throw notFound("ssh_key", k);
    const server: ServerRecord = {
      id: this.nextId++,
      name: body.name,
      serverType: body.server_type,
      architecture,
      location,
      labels: body.labels ?? {},
      sshKeys: keys.map(Number),
      rescueKeys: [],
      status: body.start_after_create === false ? "off" : "running",
      rescueEnabled: false,
      bootedRescue: false,
    };
    this.servers.set(server.id, server);
    const ref = [{ id: server.id, type: "server" }];
    const next = server.status === "running" ? [this.action("start_server", ref)] : [];
    return { server: this.serverJson(server), action: this.action("create_server", ref), next_actions: next, root_password: null };
  }

  private serverAction(server: ServerRecord, command: string, body: any): unknown {
    const ref = [{ id: server.id, type: "server" }];
    switch (command) {
      case "enable_rescue": {
        if ((body.type ?? "linux64") !== "linux64") throw invalid("type", `rescue type '${body.type}' not found`);
        for (const k of body.ssh_keys ?? []) if (!this.sshKeys.has(Number(k))) throw notFound("ssh_key", k);
        server.rescueEnabled = true;
        server.rescueKeys = (body.ssh_keys ?? []).map(Number);
        return { action: this.action("enable_rescue", ref), root_password: "fake-rescue-password" };
      }
      case "poweron":
        server.status = "running";
        server.bootedRescue = server.rescueEnabled;
        if (server.rescueEnabled) this.options.onRescueBoot?.(server, server.rescueKeys.map((k) => this.sshKeys.get(k)!.publicKey));
        return { action: this.action("start_server", ref) };
      case "poweroff":
        server.status = "off";
        return { action: this.action("stop_server", ref) };
      case "create_image": {
        const type = body.type ?? "snapshot";
        if (type !== "snapshot" && type !== "backup") throw invalid("type", `image type '${type}' not allowed`);
        checkLabels(body.labels);
        const image: ImageRecord = {
          id: this.nextId++,
          type,
          description: body.description ?? "",
          labels: body.labels ?? {},
          architecture: server.architecture,
          createdFrom: { id: server.id, name: server.name },
        };
        this.images.set(image.id, image);
        return { image: imageJson(image), action: this.action("create_image", [...ref, { id: image.id, type: "image" }]) };
      }
      default:
        throw new ApiError(404, "not_found", `action ${command} not found`);
    }
  }

  /** A new action, running until its first poll. */
  private action(command: string, resources: { id: number; type: string }[]) {
    const action = { id: this.nextId++, command, status: "running" as "running" | "success" | "error", resources };
    this.actions.set(action.id, action);
    return actionJson(action);
  }

  private poll(id: number) {
    const action = this.actions.get(id)!;
    if (action.status === "running") action.status = this.options.failActions?.includes(action.command) ? "error" : "success";
    return actionJson(action);
  }

  private serverJson(s: ServerRecord) {
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      created: new Date().toISOString(),
      public_net: { ipv4: { id: s.id, ip: this.options.serverIpv4 ?? "127.0.0.1", blocked: false, dns_ptr: "" }, ipv6: null, floating_ips: [], firewalls: [] },
      private_net: [],
      server_type: { id: 1, name: s.serverType, architecture: s.architecture },
      location: { id: 1, name: s.location },
      rescue_enabled: s.rescueEnabled,
      labels: s.labels,
      image: null,
    };
  }
}

function checkLabels(labels: unknown) {
  if (labels === undefined || labels === null) return;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!LABEL_KEY.test(k) || typeof v !== "string" || !LABEL_VALUE.test(v)) throw invalid("labels", `label '${k}: ${String(v)}' is not correctly formatted`);
  }
}

function actionJson(a: { id: number; command: string; status: string; resources: { id: number; type: string }[] }) {
  const now = new Date().toISOString();
  return {
    id: a.id,
    command: a.command,
    status: a.status,
    progress: a.status === "running" ? 0 : 100,
    started: now,
    finished: a.status === "running" ? null : now,
    error: a.status === "error" ? { code: "action_failed", message: `${a.command} failed` } : null,
    resources: a.resources,
  };
}

function imageJson(i: ImageRecord) {
  return {
    id: i.id,
    type: i.type,
    status: "available",
    name: null,
    description: i.description,
    image_size: 0.4,
    disk_size: 20,
    created: new Date().toISOString(),
    created_from: i.createdFrom,
    bound_to: null,
    os_flavor: "unknown",
    os_version: null,
    architecture: i.architecture,
    rapid_deploy: false,
    protection: { delete: false },
    deprecated: null,
    deleted: null,
    labels: i.labels,
  };
}

function meta(total: number) {
  return { pagination: { page: 1, per_page: 50, previous_page: null, next_page: null, last_page: 1, total_entries: total } };
}
