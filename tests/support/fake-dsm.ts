// A fake Synology DSM on loopback for the synology plugin's tests. It answers the calls the plugin
// makes the way Synology's published guides describe them: SYNO.API.Info (query.cgi) says where
// each API lives; SYNO.API.Auth login/logout open and close sessions (format=sid); every other
// call needs a live `_sid` (common error 119 otherwise); answers are the envelope
// {"success":true,"data":…} or {"success":false,"error":{"code":N}} with the guides' codes.
// Creations are tasks polled with SYNO.Virtualization.API.Task.Info. HTTPS only, on a
// certificate made at run time for 127.0.0.1 (caCertPem is what the plugin must trust).
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { bitString, boolean, explicit, integer, octetString, oid, sequence, set, time, tlv, utf8String } from "./der";

const GiB = 1024 ** 3;

/** One call as the fake saw it: API, method, and its parameters without secrets (passwd, _sid). */
export interface RecordedCall {
  readonly api: string;
  readonly method: string;
  readonly params: Record<string, string>;
}

export interface FakeDsmOptions {
  readonly user: string;
  readonly password: string;
  /** The VMM storage's size and what is used already, in bytes. Default: 1 TiB, 100 GiB used. */
  readonly storageBytes?: number;
  readonly usedBytes?: number;
}

interface GuestRecord {
  guest_id: string;
  guest_name: string;
  status: "running" | "shutdown";
  storage_name: string;
  vcpu_num: number;
  vram_size: number;
  autorun: number;
  description: string;
  iso_images: string[];
  vdisks: { vdisk_id: string; vdisk_size: number; controller: number }[];
  vnics: { vnic_id: string; mac: string; network_id: string; network_name: string; model: number }[];
}

const NETWORKS = [{ network_id: "net-1", network_name: "Default VM Network" }];

/** Where each API lives and the versions it takes, as SYNO.API.Info reports them on DSM 7. */
const API_INFO: Record<string, { path: string; minVersion: number; maxVersion: number }> = {
  "SYNO.API.Auth": { path: "entry.cgi", minVersion: 1, maxVersion: 7 },
  "SYNO.FileStation.Upload": { path: "entry.cgi", minVersion: 1, maxVersion: 3 },
  "SYNO.FileStation.Delete": { path: "entry.cgi", minVersion: 1, maxVersion: 2 },
  "SYNO.Virtualization.API.Guest": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Guest.Action": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Guest.Image": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Task.Info": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Storage": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Network": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
};

class DsmError extends Error {
  constructor(readonly code: number) {
    super(`DSM error ${code}`);
  }
}

/** A self-signed ECDSA certificate for 127.0.0.1 (subjectAltName iPAddress), PEM, and its key. */
function loopbackCertificate(): { cert: string; key: string } {
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const algorithm = sequence(oid("1.2.840.10045.4.3.2"));
  const name = sequence(set(sequence(oid("2.5.4.10"), utf8String("fake DSM"))));
  const san = sequence(tlv(0x87, Buffer.from([127, 0, 0, 1])));
  const extensions = sequence(
    sequence(oid("2.5.29.19"), boolean(true), octetString(sequence(boolean(true)))),
    sequence(oid("2.5.29.17"), octetString(san)),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    algorithm,
    name,
    sequence(time(new Date(Date.now() - 3600_000)), time(new Date(Date.now() + 86400_000))),
    name,
    keys.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const cert = new X509Certificate(sequence(tbs, algorithm, bitString(sign("sha256", tbs, keys.privateKey)))).toString();
  return { cert, key: keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

/** Multipart form fields and the one file (small test bodies only). */
function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; file?: { name: string; size: number } } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const fields: Record<string, string> = {};
  let file: { name: string; size: number } | undefined;
  if (!boundary) return { fields };
  const parts = body.toString("latin1").split(`--${boundary[1] ?? boundary[2]}`).slice(1, -1);
  for (const part of parts) {
    const [head, ...rest] = part.replace(/^\r\n/, "").split("\r\n\r\n");
    const content = rest.join("\r\n\r\n").replace(/\r\n$/, "");
    const fieldName = /name="([^"]*)"/.exec(head ?? "")?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head ?? "")?.[1];
    if (filename !== undefined) file = { name: filename, size: Buffer.byteLength(content, "latin1") };
    else fields[fieldName] = content;
  }
  return { fields, file };
}

export class FakeDsm {
  readonly caCertPem: string;
  /** Every API call in order (SYNO.API.Info, logins and logouts included). */
  readonly calls: RecordedCall[] = [];
  /** Downloads of the stand-in ISO (the Image Factory's /image/… path). */
  readonly downloads: string[] = [];
  readonly sessions = new Set<string>();
  readonly files = new Map<string, number>();
  readonly images = new Map<string, { image_id: string; image_name: string; ds_file_path: string; storage_names: string[] }>();
  readonly guests = new Map<string, GuestRecord>();
  private readonly tasks = new Map<string, Record<string, string>>();
  private readonly server: https.Server;
  private nextId = 1;
  storageBytes: number;
  usedBytes: number;
  /** When set, the next call of this method finds its session timed out (common error 106) and ends it. */
  expireSessionAt?: string;
  /** Guests whose next power-on fails, by name, with this VMM code (e.g. 903, insufficient memory). */
  readonly refusePowerOn = new Map<string, number>();
  /** Folders on a full volume: an upload there fails with File Station's 416. */
  readonly fullFolders = new Set<string>();

  private constructor(readonly options: FakeDsmOptions) {
    const { cert, key } = loopbackCertificate();
    this.caCertPem = cert;
    this.storageBytes = options.storageBytes ?? 1024 * GiB;
    this.usedBytes = options.usedBytes ?? 100 * GiB;
    this.server = https.createServer({ cert, key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? "/", "https://127.0.0.1");
        if (url.pathname.startsWith("/factory/image/")) {
          this.downloads.push(url.pathname);
          res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.alloc(4096, 7));
          return;
        }
        const params: Record<string, string> = Object.fromEntries(url.searchParams);
        let upload: { name: string; size: number } | undefined;
        const type = req.headers["content-type"] ?? "";
        if (type.startsWith("multipart/form-data")) {
          const parsed = parseMultipart(body, type);
          Object.assign(params, parsed.fields);
          upload = parsed.file;
        } else {
          Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
        }
        const answer = this.handle(url.pathname, params, upload);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
  }

  static async start(options: FakeDsmOptions): Promise<FakeDsm> {
    const dsm = new FakeDsm(options);
    await new Promise<void>((resolve) => dsm.server.listen(0, "127.0.0.1", resolve));
    return dsm;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The recorded calls as `API method key=value …` lines, for transcripts and assertions. */
  callLines(from = 0): string[] {
    return this.calls.slice(from).map((c) => [c.api, c.method, ...Object.entries(c.params).map(([k, v]) => `${k}=${v}`)].join(" "));
  }

  private handle(path: string, params: Record<string, string>, upload?: { name: string; size: number }): unknown {
    const { api = "", method = "", _sid, passwd, ...rest } = params;
    void passwd;
    this.calls.push({ api, method, params: Object.fromEntries(Object.entries(rest).filter(([k]) => k !== "version")) });
    try {
      const expected = api === "SYNO.API.Info" ? "/webapi/query.cgi" : `/webapi/${API_INFO[api]?.path ?? "?"}`;
      if (path !== expected) throw new DsmError(102);
      if (!params.version || !method) throw new DsmError(101);
      if (api === "SYNO.API.Info") return { success: true, data: this.info(rest.query ?? "") };
      const info = API_INFO[api];
      if (!info) throw new DsmError(102);
      const version = Number(params.version);
      if (version < info.minVersion || version > info.maxVersion) throw new DsmError(104);
      if (api === "SYNO.API.Auth") return { success: true, data: this.auth(method, params, _sid) };
      if (!_sid || !this.sessions.has(_sid)) throw new DsmError(119);
      if (this.expireSessionAt === method) {
        this.expireSessionAt = undefined;
        this.sessions.delete(_sid);
        throw new DsmError(106);
      }
      return { success: true, data: this.call(api, method, rest, upload) ?? {} };
    } catch (err) {
      if (err instanceof DsmError) return { success: false, error: { code: err.code } };
      throw err;
    }
  }

  private info(query: string): Record<string, unknown> {
    const wanted = query === "ALL" ? Object.keys(API_INFO) : query.split(",");
    return Object.fromEntries(wanted.filter((n) => API_INFO[n]).map((n) => [n, { ...API_INFO[n], requestFormat: "JSON" }]));
  }

  private auth(method: string, params: Record<string, string>, sid: string | undefined): unknown {
    if (method === "login") {
      if (params.account !== this.options.user || params.passwd !== this.options.password) throw new DsmError(400);
      const newSid = randomBytes(12).toString("hex");
      this.sessions.add(newSid);
      return { sid: newSid };
    }
    if (method === "logout") {
      if (sid) this.sessions.delete(sid);
      return {};
    }
    throw new DsmError(103);
  }

  private id(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  private task(info: Record<string, string>): { task_id: string } {
    const task_id = this.id("task");
    this.tasks.set(task_id, info);
    return { task_id };
  }

  private guest(p: Record<string, string>): GuestRecord {
    const g = [...this.guests.values()].find((x) => x.guest_id === p.guest_id || (p.guest_id === undefined && x.guest_name === p.guest_name));
    if (!g) throw new DsmError(401);
    return g;
  }

  private call(api: string, method: string, p: Record<string, string>, upload?: { name: string; size: number }): unknown {
    const json = <T>(v: string | undefined): T => {
      try {
        return JSON.parse(v ?? "") as T;
      } catch {
        throw new DsmError(401);
      }
    };
    const key = `${api} ${method}`;
    switch (key) {
      case "SYNO.FileStation.Upload upload": {
        if (!upload || !p.path) throw new DsmError(401);
        if (this.fullFolders.has(p.path) || this.usedBytes + upload.size > this.storageBytes) throw new DsmError(416);
        this.files.set(`${p.path}/${upload.name}`, upload.size);
        return {};
      }
      case "SYNO.FileStation.Delete delete": {
        for (const file of json<string[]>(p.path)) {
          if (!this.files.delete(file)) throw new DsmError(408);
        }
        return {};
      }
      case "SYNO.Virtualization.API.Storage list":
        return { storages: [{ storage_id: "storage-1", storage_name: "volume1", status: "normal", host_id: "host-1", host_name: "nas", size: this.storageBytes, used: this.usedBytes, volume_path: "/volume1" }] };
      case "SYNO.Virtualization.API.Network list":
        return { networks: NETWORKS };
      case "SYNO.Virtualization.API.Task.Info get": {
        const info = this.tasks.get(p.task_id ?? "");
        if (!info) throw new DsmError(1000);
        return { finish: true, task_info: { progress: 100, status: "success", ...info } };
      }
      case "SYNO.Virtualization.API.Guest.Image create": {
        const name = p.image_name ?? "";
        if (!name || p.type !== "iso" || !p.ds_file_path) throw new DsmError(401);
        if ([...this.images.values()].some((i) => i.image_name === name)) throw new DsmError(403);
        if (!this.files.has(p.ds_file_path)) throw new DsmError(401);
        const storage_names = json<string[]>(p.storage_names);
        if (!storage_names.every((s) => s === "volume1")) throw new DsmError(700);
        const image_id = this.id("image");
        this.images.set(image_id, { image_id, image_name: name, ds_file_path: p.ds_file_path, storage_names });
        return this.task({ image_id });
      }
      case "SYNO.Virtualization.API.Guest.Image list":
        return { images: [...this.images.values()].map((i) => ({ image_id: i.image_id, image_name: i.image_name, type: "iso", status: "online" })) };
      case "SYNO.Virtualization.API.Guest.Image delete": {
        if (!this.images.delete(p.image_id ?? "")) throw new DsmError(401);
        return {};
      }
      case "SYNO.Virtualization.API.Guest create": {
        const name = p.guest_name ?? "";
        if (!name) throw new DsmError(401);
        if ([...this.guests.values()].some((g) => g.guest_name === name)) throw new DsmError(403);
        if (p.storage_name !== "volume1") throw new DsmError(700);
        const vnics = json<{ mac: string; network_id: string }[]>(p.vnics);
        const vdisks = json<{ create_type: number; vdisk_size: number }[]>(p.vdisks);
        const isos = json<string[]>(p.iso_images);
        for (const iso of isos) if (iso !== "unmounted" && ![...this.images.values()].some((i) => i.image_name === iso)) throw new DsmError(906);
        const macs = new Set([...this.guests.values()].flatMap((g) => g.vnics.map((n) => n.mac)));
        if (vnics.some((n) => macs.has(n.mac))) throw new DsmError(905);
        const bytes = vdisks.reduce((s, d) => s + d.vdisk_size * 1024 * 1024, 0);
        if (this.usedBytes + bytes > this.storageBytes) throw new DsmError(402);
        this.usedBytes += bytes;
        const guest_id = this.id("guest");
        this.guests.set(guest_id, {
          guest_id,
          guest_name: name,
          status: "shutdown",
          storage_name: p.storage_name,
          vcpu_num: Number(p.vcpu_num),
          vram_size: Number(p.vram_size),
          autorun: Number(p.autorun ?? 0),
          description: p.description ?? "",
          iso_images: isos,
          vdisks: vdisks.map((d) => ({ vdisk_id: this.id("vdisk"), vdisk_size: d.vdisk_size, controller: 1 })),
          vnics: vnics.map((n) => ({ vnic_id: this.id("vnic"), mac: n.mac, network_id: n.network_id, network_name: NETWORKS.find((x) => x.network_id === n.network_id)?.network_name ?? "", model: 1 })),
        });
        return this.task({ guest_id });
      }
      case "SYNO.Virtualization.API.Guest list":
        return { guests: [...this.guests.values()] };
      case "SYNO.Virtualization.API.Guest get":
        return this.guest(p);
      case "SYNO.Virtualization.API.Guest set": {
        const g = this.guest(p);
        const vcpu = p.vcpu_num === undefined ? g.vcpu_num : Number(p.vcpu_num);
        const vram = p.vram_size === undefined ? g.vram_size : Number(p.vram_size);
        // Sizing changes only while the guest is off (VMM applies them at power-on).
        if (g.status === "running" && (vcpu !== g.vcpu_num || vram !== g.vram_size)) throw new DsmError(402);
        Object.assign(g, { vcpu_num: vcpu, vram_size: vram });
        if (p.autorun !== undefined) g.autorun = Number(p.autorun);
        if (p.iso_images !== undefined) g.iso_images = json<string[]>(p.iso_images);
        if (p.description !== undefined) g.description = p.description;
        return {};
      }
      case "SYNO.Virtualization.API.Guest delete": {
        const g = this.guest(p);
        if (g.status === "running") throw new DsmError(402);
        this.usedBytes -= g.vdisks.reduce((s, d) => s + d.vdisk_size * 1024 * 1024, 0);
        this.guests.delete(g.guest_id);
        return {};
      }
      case "SYNO.Virtualization.API.Guest.Action poweron": {
        const g = this.guest(p);
        if (g.status === "running") throw new DsmError(904);
        const refused = this.refusePowerOn.get(g.guest_name);
        if (refused !== undefined) {
          this.refusePowerOn.delete(g.guest_name);
          throw new DsmError(refused);
        }
        g.status = "running";
        return {};
      }
      case "SYNO.Virtualization.API.Guest.Action poweroff": {
        const g = this.guest(p);
        if (g.status === "shutdown") throw new DsmError(907);
        g.status = "shutdown";
        return {};
      }
    }
    throw new DsmError(103);
  }
}
