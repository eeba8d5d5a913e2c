// A fake Hetzner Robot webservice (robot-ws.your-server.de) on loopback over plain HTTP, for the
// robot plugin's tests. Written from Hetzner's documentation (robot.hetzner.com/doc/webservice/en.html)
// as the PUBLIC clients implement it, not from our provider: it takes what those clients send and
// refuses what they do not. No code was taken from them.
//
// Sources (repo@commit; short names used below):
//   CH  ansible-collections/community.hrobot@0045886  plugins/module_utils/robot.py (RB), plugins/modules/ssh_key.py (SK),
//       boot.py (BT), reset.py (RS), firewall.py (FW), server.py (SV); plugins/modules/v_switch.py@0c922cc (VS)
//   HR  MathiasPius/hrobot-rs  src/api/firewall/serde.rs@35a03f7 (FS), src/api/boot/rescue.rs@2681646 (BR), src/error.rs (ER)
//   OF  operate-first/hetzner-baremetal-openshift issue #8 ("only 10 rules per server", Hetzner ticket)
//
// Every request: HTTP basic auth (RB fetch_url_json force_basic_auth), else 401 UNAUTHORIZED. Bodies are
// application/x-www-form-urlencoded (RB, BT, VS send urlencode()). Errors answer
// {"error":{"status","code","message"}} with the HTTP status (ER GenericAPIError); INVALID_INPUT adds
// "missing" and "invalid" (ER InvalidInputError), RATE_LIMIT_EXCEEDED adds "max_request" and "interval"
// (ER RateLimitError). A parameter an endpoint does not list is refused: 400 INVALID_INPUT naming it in
// "invalid" (the fake's choice: Robot documents INVALID_INPUT for invalid parameters, no source shows an
// unknown one); a missing required one: 400 INVALID_INPUT naming it in "missing".
//
// | endpoint                        | parameters (source)                                                               | answers / errors |
// |---------------------------------|-----------------------------------------------------------------------------------|------------------|
// | GET    /key/{fp}                | —  (SK)                                                                           | {key}; 404 NOT_FOUND |
// | POST   /key                     | R name, R data `<type> <base64>` (SK main)                                        | 201 {key:{name,fingerprint,type,size,data}}; 409 KEY_ALREADY_EXISTS (ER); 400 invalid data |
// | POST   /key/{fp}                | R name (SK: the only thing that can be updated)                                   | {key}; 404 NOT_FOUND |
// | DELETE /key/{fp}                | —  (SK)                                                                           | 200 empty; 404 NOT_FOUND |
// | GET    /firewall/{n}            | —  (FW, HR FS InternalFirewall)                                                   | {firewall:{server_ip,server_number,status,filter_ipv6,whitelist_hos,port,rules:{input,output}}}; 404 SERVER_NOT_FOUND |
// | POST   /firewall/{n}            | R status active|disabled; O filter_ipv6, whitelist_hos (true|false), port;        | {firewall} with status "in process"; 409 FIREWALL_IN_PROCESS while one is applied (ER, FW |
// |                                 |   rules[input|output][i][name, ip_version, dst_ip, src_ip, dst_port, src_port,    |   waits on "in process"); 409 FIREWALL_RULE_LIMIT_EXCEEDED past 10 input rules (OF; status 409 |
// |                                 |   protocol, tcp_flags, action] (HR FS UrlEncode; FW)                               |   is the fake's choice); 400 INVALID_INPUT for a bad value |
// | DELETE /firewall/{n}            | —  (HR firewall/mod.rs delete_firewall: back to Robot's default)                  | {firewall} "in process"; 409 FIREWALL_IN_PROCESS |
// | GET    /boot/{n}/rescue         | —  (BR get_rescue_config)                                                         | {rescue:{server_ip,server_number,os,active,password,authorized_key,host_key}}; 404 SERVER_NOT_FOUND |
// | POST   /boot/{n}/rescue         | R os (linux|vkvm); O authorized_key (repeated, CH BT urlencode doseq; HR BR       | {rescue} active with a password; 409 BOOT_ALREADY_ENABLED (ER) when active; 400 INVALID_INPUT for |
// |                                 |   RescueConfig) or authorized_key[]; O keyboard; O arch (deprecated, CH BT)       |   an unknown key fingerprint or os |
// | DELETE /boot/{n}/rescue         | —  (BR disable_rescue_config; CH BT deactivates)                                  | {rescue} inactive |
// | POST   /reset/{n}               | R type sw|hw|power|man (CH RS)                                                    | {reset:{server_ip,type}}; 404 SERVER_NOT_FOUND; 400 INVALID_INPUT for another type (CH RS) |
// | GET    /vswitch/{id}            | —  (CH VS get_v_switch)                                                           | {id,name,vlan,cancelled,server:[{server_ip,server_number,status}],subnet,cloud_network}; 404 NOT_FOUND |
// | POST   /vswitch/{id}/server     | R server[] or server[i] (CH VS get_x_www_form_urlenconded_dict_from_list)         | 201 empty; 409 VSWITCH_IN_PROCESS while a member is "in process" (CH VS, ER); 409 VSWITCH_VLAN_NOT_UNIQUE; 404 SERVER_NOT_FOUND |
// | DELETE /vswitch/{id}/server     | R server[] or server[i] (CH VS delete_servers)                                    | 200 empty; 409 VSWITCH_IN_PROCESS |
// | GET    /server/{n}              | —  (CH SV)                                                                        | {server:{server_ip,server_number,server_name,product,dc,status,…}}; 404 SERVER_NOT_FOUND |
// | POST   /server/{n}              | R server_name (CH SV: the name is the one field a client may change)              | {server}; 404 SERVER_NOT_FOUND; 400 INVALID_INPUT (CH SV accept_errors) |
// | any                             | —                                                                                 | 403 RATE_LIMIT_EXCEEDED when a test calls rateLimit() (ER) |
//
// What the fake decides where no source shows Robot's behaviour (each a choice, named):
//   - A firewall or vSwitch change stays "in process" for `processReads` GETs of it (default 1), then is applied.
//   - A reset of a server whose rescue is active boots the rescue system: its configuration becomes inactive
//     (Robot's rescue is for the next boot only) and the server is recorded as in rescue.
//   - DELETE /boot/{n}/rescue of an inactive rescue answers the inactive configuration (200).
//   - POST /server/{n} with an empty server_name is INVALID_INPUT (missing), like any empty required parameter.
//   - The recorded calls never hold the Authorization header.
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";

export interface RobotCall {
  method: string;
  path: string;
  /** The form parameters, in the order sent. */
  params: [string, string][];
  status: number;
}

interface Rule {
  [field: string]: string;
}

export interface FakeServer {
  number: number;
  ip: string;
  /** Robot's server_name (the customer's label) and datacenter. */
  name: string;
  dc: string;
  firewall: { status: "active" | "disabled" | "in process"; whitelistHos: boolean; filterIpv6: boolean; input: Rule[]; output: Rule[]; pendingReads: number; next?: { status: "active" | "disabled"; input: Rule[]; output: Rule[]; whitelistHos: boolean } };
  rescue: { active: boolean; os: string; keys: string[]; password: string | null };
  resets: string[];
  /** Booted into the rescue system by a reset while its rescue was active. */
  inRescue: boolean;
}

interface VSwitch {
  id: number;
  name: string;
  vlan: number;
  members: Map<number, { status: "ready" | "in process"; pendingReads: number; leaving: boolean }>;
}

const FIREWALL_FIELDS = ["name", "ip_version", "dst_ip", "src_ip", "dst_port", "src_port", "protocol", "tcp_flags", "action"];
const MAX_INPUT_RULES = 10;

class RobotError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const invalid = (...names: string[]) => new RobotError(400, "INVALID_INPUT", "invalid input", { missing: null, invalid: names });
const missing = (...names: string[]) => new RobotError(400, "INVALID_INPUT", "invalid input", { missing: names, invalid: null });

/** The MD5 fingerprint Robot names a key by (CH SK extract_fingerprint). */
export function keyFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? "", "base64");
  return crypto.createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

export class FakeRobot {
  readonly calls: RobotCall[] = [];
  readonly servers = new Map<number, FakeServer>();
  readonly keys = new Map<string, { name: string; data: string }>();
  readonly vswitches = new Map<number, VSwitch>();
  /** GETs a background change stays "in process" for. */
  processReads = 1;
  /**
   * Called when a reset boots a server into its rescue system, with the public keys Robot puts in
   * the rescue system's authorized_keys (the keys of the rescue configuration): a test lets them
   * into its stand-in sshd.
   */
  onRescueBoot: ((server: FakeServer, publicKeys: string[]) => void) | undefined;
  private limited: { method: string; path: RegExp } | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly user: string,
    private readonly password: string,
  ) {}

  static async start(opts: { user: string; password: string; servers: { number: number; ip: string; name?: string; dc?: string }[]; vswitches?: { id: number; vlan: number; name: string }[] }): Promise<FakeRobot> {
    let fake: FakeRobot | undefined;
    const server = http.createServer((req, res) => fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake = new FakeRobot(server, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, opts.user, opts.password);
    for (const s of opts.servers) {
      fake.servers.set(s.number, {
        number: s.number,
        ip: s.ip,
        name: s.name ?? "",
        dc: s.dc ?? "FSN1-DC14",
        firewall: { status: "disabled", whitelistHos: true, filterIpv6: false, input: [], output: [], pendingReads: 0 },
        rescue: { active: false, os: "linux", keys: [], password: null },
        resets: [],
        inRescue: false,
      });
    }
    for (const v of opts.vswitches ?? []) fake.vswitches.set(v.id, { ...v, members: new Map() });
    return fake;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The next request matching method and path is refused with 403 RATE_LIMIT_EXCEEDED. */
  rateLimit(method: string, path: RegExp): void {
    this.limited = { method, path };
  }

  /** Recorded calls as `METHOD /path status key=value …` lines. */
  lines(from = 0): string[] {
    return this.calls.slice(from).map((c) => [`${c.method} ${c.path} ${c.status}`, ...c.params.map(([k, v]) => `${k}=${v}`)].join(" "));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const method = req.method ?? "GET";
      const params = [...new URLSearchParams(body).entries()];
      const call: RobotCall = { method, path, params, status: 0 };
      this.calls.push(call);
      const answer = (status: number, value?: unknown) => {
        call.status = status;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(value === undefined ? "" : JSON.stringify(value));
      };
      try {
        if (!this.authorized(req.headers.authorization)) throw new RobotError(401, "UNAUTHORIZED", "Unable to authenticate");
        if (this.limited && this.limited.method === method && this.limited.path.test(path)) {
          this.limited = undefined;
          throw new RobotError(403, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded", { max_request: 200, interval: 3600 });
        }
        const [status, value] = this.route(method, path, params);
        answer(status, value);
      } catch (err) {
        if (!(err instanceof RobotError)) throw err;
        answer(err.status, { error: { status: err.status, code: err.code, message: err.message, ...err.extra } });
      }
    });
  }

  private authorized(header: string | undefined): boolean {
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString("base64")}`;
    return header === expected;
  }

  private route(method: string, path: string, params: [string, string][]): [number, unknown?] {
    let m: RegExpMatchArray | null;
    if (method === "POST" && path === "/key") return this.createKey(form(params, ["name", "data"], []));
    if ((m = path.match(/^\/key\/([0-9a-f:]+)$/))) return this.key(method, m[1]!, params);
    if ((m = path.match(/^\/server\/(\d+)$/)) && (method === "GET" || method === "POST")) return this.serverName(method, this.serverOf(m[1]!), params);
    if ((m = path.match(/^\/firewall\/(\d+)$/))) return this.firewall(method, this.serverOf(m[1]!), params);
    if ((m = path.match(/^\/boot\/(\d+)\/rescue$/))) return this.rescue(method, this.serverOf(m[1]!), params);
    if ((m = path.match(/^\/reset\/(\d+)$/)) && method === "POST") return this.reset(this.serverOf(m[1]!), params);
    if ((m = path.match(/^\/vswitch\/(\d+)$/)) && method === "GET") return [200, this.vswitchView(this.vswitchOf(m[1]!))];
    if ((m = path.match(/^\/vswitch\/(\d+)\/server$/)) && (method === "POST" || method === "DELETE")) return this.membership(method, this.vswitchOf(m[1]!), params);
    throw new RobotError(404, "NOT_FOUND", `no such endpoint: ${method} ${path}`);
  }

  private serverOf(n: string): FakeServer {
    const server = this.servers.get(Number(n));
    if (!server) throw new RobotError(404, "SERVER_NOT_FOUND", "Server not found");
    return server;
  }

  private vswitchOf(id: string): VSwitch {
    const v = this.vswitches.get(Number(id));
    if (!v) throw new RobotError(404, "NOT_FOUND", "vSwitch not found");
    return v;
  }

  private serverName(method: string, s: FakeServer, params: [string, string][]): [number, unknown] {
    if (method === "POST") s.name = form(params, ["server_name"], []).server_name!;
    else form(params, [], []);
    return [200, { server: { server_ip: s.ip, server_ipv6_net: null, server_number: s.number, server_name: s.name, product: "AX41-NVMe", dc: s.dc, traffic: "unlimited", status: "ready", cancelled: false, paid_until: "2027-01-31" } }];
  }

  private createKey(p: Record<string, string>): [number, unknown] {
    if (!/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+$/.test(p.data!)) throw invalid("data");
    const fp = keyFingerprint(p.data!);
    if (this.keys.has(fp)) throw new RobotError(409, "KEY_ALREADY_EXISTS", "The key already exists");
    this.keys.set(fp, { name: p.name!, data: p.data! });
    return [201, this.keyView(fp)];
  }

  private key(method: string, fp: string, params: [string, string][]): [number, unknown?] {
    if (!this.keys.has(fp)) throw new RobotError(404, "NOT_FOUND", "Key not found");
    if (method === "GET") return [200, this.keyView(fp)];
    if (method === "POST") {
      this.keys.get(fp)!.name = form(params, ["name"], []).name!;
      return [200, this.keyView(fp)];
    }
    if (method === "DELETE") {
      form(params, [], []);
      this.keys.delete(fp);
      return [200];
    }
    throw new RobotError(404, "NOT_FOUND", `no such endpoint: ${method} /key/${fp}`);
  }

  private keyView(fp: string) {
    const k = this.keys.get(fp)!;
    return { key: { name: k.name, fingerprint: fp, type: k.data.split(" ")[0]!.replace(/^ssh-/, ""), size: 256, data: k.data } };
  }

  /** Reading a firewall counts down its "in process" reads; the change applies when they are used up. */
  private readFirewall(s: FakeServer) {
    const f = s.firewall;
    if (f.status === "in process") {
      if (f.pendingReads > 0) f.pendingReads -= 1;
      else {
        Object.assign(f, { status: f.next!.status, input: f.next!.input, output: f.next!.output, whitelistHos: f.next!.whitelistHos });
        f.next = undefined;
      }
    }
    return {
      firewall: {
        server_ip: s.ip,
        server_number: s.number,
        status: f.status,
        filter_ipv6: f.filterIpv6,
        whitelist_hos: f.whitelistHos,
        port: "main",
        rules: { input: f.input, output: f.output },
      },
    };
  }

  private firewall(method: string, s: FakeServer, params: [string, string][]): [number, unknown] {
    if (method === "GET") return [200, this.readFirewall(s)];
    if (method !== "POST" && method !== "DELETE") throw new RobotError(404, "NOT_FOUND", `no such endpoint: ${method}`);
    if (s.firewall.status === "in process") throw new RobotError(409, "FIREWALL_IN_PROCESS", "The firewall cannot be updated while it is in process");
    let next: NonNullable<FakeServer["firewall"]["next"]>;
    if (method === "DELETE") {
      form(params, [], []);
      next = { status: "disabled", input: [], output: [], whitelistHos: true };
    } else {
      const plain = params.filter(([k]) => !k.startsWith("rules["));
      const p = form(plain, ["status"], ["filter_ipv6", "whitelist_hos", "port"]);
      const bad = [
        ...(["active", "disabled"].includes(p.status!) ? [] : ["status"]),
        ...(["filter_ipv6", "whitelist_hos"].filter((k) => p[k] !== undefined && !["true", "false"].includes(p[k]!))),
        ...(p.port === undefined || ["main", "kvm"].includes(p.port) ? [] : ["port"]),
      ];
      const rules: Record<"input" | "output", Rule[]> = { input: [], output: [] };
      for (const [k, v] of params.filter(([key]) => key.startsWith("rules["))) {
        const r = k.match(/^rules\[(input|output)\]\[(\d+)\]\[([a-z_]+)\]$/);
        if (!r || !FIREWALL_FIELDS.includes(r[3]!)) {
          bad.push(k);
          continue;
        }
        const list = rules[r[1] as "input" | "output"];
        (list[Number(r[2])] ??= {})[r[3]!] = v;
      }
      for (const dir of ["input", "output"] as const) {
        rules[dir].forEach((rule, i) => {
          const at = (f: string) => `rules[${dir}][${i}][${f}]`;
          if (!rule) {
            bad.push(at("name"));
            return;
          }
          if (!["accept", "discard"].includes(rule.action ?? "")) bad.push(at("action"));
          if (rule.protocol !== undefined && !["tcp", "udp", "gre", "icmp", "ipip", "ah", "esp"].includes(rule.protocol)) bad.push(at("protocol"));
          if (rule.ip_version !== undefined && !["ipv4", "ipv6"].includes(rule.ip_version)) bad.push(at("ip_version"));
          for (const f of ["src_ip", "dst_ip"]) if (rule[f] !== undefined && !/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(rule[f]!)) bad.push(at(f));
          for (const f of ["src_port", "dst_port"]) if (rule[f] !== undefined && !/^\d{1,5}(-\d{1,5})?$/.test(rule[f]!)) bad.push(at(f));
          if (rule.tcp_flags !== undefined && rule.protocol !== "tcp") bad.push(at("tcp_flags"));
        });
      }
      if (bad.length) throw invalid(...bad);
      if (rules.input.length > MAX_INPUT_RULES) throw new RobotError(409, "FIREWALL_RULE_LIMIT_EXCEEDED", `at most ${MAX_INPUT_RULES} input rules`);
      next = { status: p.status as "active" | "disabled", input: rules.input, output: rules.output, whitelistHos: p.whitelist_hos !== "false" };
    }
    s.firewall.status = "in process";
    s.firewall.pendingReads = this.processReads;
    s.firewall.next = next;
    return [200, { firewall: { server_ip: s.ip, server_number: s.number, status: "in process", filter_ipv6: false, whitelist_hos: next.whitelistHos, port: "main", rules: { input: next.input, output: next.output } } }];
  }

  private rescueView(s: FakeServer) {
    const r = s.rescue;
    return {
      rescue: {
        server_ip: s.ip,
        server_ipv6_net: null,
        server_number: s.number,
        os: r.active ? r.os : ["linux", "vkvm"],
        active: r.active,
        password: r.password,
        authorized_key: r.keys.map((fp) => ({ key: { name: this.keys.get(fp)?.name ?? "", fingerprint: fp, type: "ED25519", size: 256 } })),
        host_key: r.active ? [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(s.number).padStart(40, "0")} rescue`] : [],
        boot_time: null,
      },
    };
  }

  private rescue(method: string, s: FakeServer, params: [string, string][]): [number, unknown] {
    if (method === "GET") return [200, this.rescueView(s)];
    if (method === "DELETE") {
      form(params, [], []);
      Object.assign(s.rescue, { active: false, keys: [], password: null });
      return [200, this.rescueView(s)];
    }
    if (method !== "POST") throw new RobotError(404, "NOT_FOUND", `no such endpoint: ${method}`);
    const keys = params.filter(([k]) => k === "authorized_key" || k === "authorized_key[]").map(([, v]) => v);
    const p = form(params.filter(([k]) => k !== "authorized_key" && k !== "authorized_key[]"), ["os"], ["keyboard", "arch"]);
    const bad = [...(["linux", "vkvm"].includes(p.os!) ? [] : ["os"]), ...(keys.every((fp) => this.keys.has(fp)) ? [] : ["authorized_key"])];
    if (bad.length) throw invalid(...bad);
    if (s.rescue.active) throw new RobotError(409, "BOOT_ALREADY_ENABLED", "The boot option is already active");
    Object.assign(s.rescue, { active: true, os: p.os, keys, password: crypto.randomBytes(9).toString("base64") });
    return [200, this.rescueView(s)];
  }

  private reset(s: FakeServer, params: [string, string][]): [number, unknown] {
    const p = form(params, ["type"], []);
    if (!["sw", "hw", "power", "man"].includes(p.type!)) throw invalid("type");
    s.resets.push(p.type!);
    // The rescue configuration is for the next boot only: booting it ends it.
    s.inRescue = s.rescue.active;
    if (s.rescue.active) {
      this.onRescueBoot?.(s, s.rescue.keys.map((fp) => this.keys.get(fp)!.data));
      Object.assign(s.rescue, { active: false, password: null });
    }
    return [200, { reset: { server_ip: s.ip, server_ipv6_net: null, type: p.type } }];
  }

  private vswitchView(v: VSwitch) {
    for (const [n, member] of v.members) {
      if (member.status !== "in process") continue;
      if (member.pendingReads > 0) member.pendingReads -= 1;
      else if (member.leaving) v.members.delete(n);
      else member.status = "ready";
    }
    return {
      id: v.id,
      name: v.name,
      vlan: v.vlan,
      cancelled: false,
      server: [...v.members].map(([n, m]) => ({ server_ip: this.servers.get(n)?.ip ?? null, server_ipv6_net: null, server_number: n, status: m.status })),
      subnet: [],
      cloud_network: [],
    };
  }

  private membership(method: string, v: VSwitch, params: [string, string][]): [number, unknown?] {
    const entries = params.filter(([k]) => /^server\[\d*\]$/.test(k));
    const others = params.filter(([k]) => !/^server\[\d*\]$/.test(k)).map(([k]) => k);
    if (others.length) throw invalid(...others);
    if (!entries.length) throw missing("server");
    if ([...v.members.values()].some((m) => m.status === "in process")) throw new RobotError(409, "VSWITCH_IN_PROCESS", "There is an update running, the vSwitch cannot be updated");
    const numbers = entries.map(([, value]) => {
      const s = [...this.servers.values()].find((x) => String(x.number) === value || x.ip === value);
      if (!s) throw new RobotError(404, "SERVER_NOT_FOUND", `server ${value} not found`);
      return s.number;
    });
    for (const n of numbers) {
      if (method === "POST") {
        const clash = [...this.vswitches.values()].find((o) => o.id !== v.id && o.vlan === v.vlan && o.members.has(n));
        if (clash) throw new RobotError(409, "VSWITCH_VLAN_NOT_UNIQUE", `vlan of vswitch is already in use at server ${n}`);
        if (!v.members.has(n)) v.members.set(n, { status: "in process", pendingReads: this.processReads, leaving: false });
      } else if (v.members.has(n)) {
        v.members.set(n, { status: "in process", pendingReads: this.processReads, leaving: true });
      }
    }
    return method === "POST" ? [201] : [200];
  }
}

/** The parameters as an object: refuses unknown ones (invalid) and missing required ones (missing). */
function form(params: [string, string][], required: string[], optional: string[]): Record<string, string> {
  const known = new Set([...required, ...optional]);
  const unknown = params.map(([k]) => k).filter((k) => !known.has(k));
  if (unknown.length) throw invalid(...unknown);
  const out = Object.fromEntries(params);
  const absent = required.filter((k) => !out[k]);
  if (absent.length) throw missing(...absent);
  return out;
}
