// A fake Synology DSM with Virtual Machine Manager, on loopback over HTTPS, plus an Image Factory
// stand-in on the same server. It is written from the PUBLIC clients of the DSM/VMM API, not from our
// provider: it takes what those clients send and refuses what they do not.
//
// Sources (repo@commit; short names used below):
//   TF  synology-community/terraform-provider-synology@055af83  synology/provider/virtualization/guest_resource.go (GR), image_resource.go (IR)
//   GS  synology-community/go-synology@e8de328  pkg/api/virtualization/{methods/methods.go (MM), guest.go (G), client.go (C), task.go (T),
//       image.go (I), storage.go (S), network.go (N)}, pkg/api/api_info.json (AI), pkg/api/login.go (LG), pkg/api/errors.go (E),
//       pkg/api/client.go (PC), pkg/api/filestation/upload.go (FU)
//   N4  N4S4/synology-api@50b4343  synology_api/virtualization.py (V), error_codes.py (EC), filestation.py (FS), utils.py (U)
//   NC  yuangy1995/dsm-native-client@d7fc685  docs/api/DSM_WEB_API_REFERENCE_ZH.md (DOC), contracts/request-fixtures/vmm/* (FX),
//       android/.../data/DsmRepository.kt (AND), apple/Packages/DsmNetwork/Sources/DsmServiceManagementRepository.swift (APL),
//       apple/Packages/DsmCore/Sources/ApiCapability.swift (APC), docs/api/discovery/endpoints/vmm-internal.md (VI)
//   VE  awkspace/vmm-export@21199e0  vmm_export/cli.py (CLI), vmm_export/virtual_machine.py (VM)
//   I203 terraform-provider-synology issue #203 (real DSM: create without sizing = 1 vCPU / 1024 MB; internal set with empty guest_name = 401)
//   IF  siderolabs/image-factory@26b95ca  internal/frontend/http/image.go (IMG), http.go (H), enterprise/checksum/checksummer.go (CS)
//
// TABLE: one row per API/method. R required, O optional, 1of = at least one of the group, non-empty.
// Every API refuses a parameter it does not list: VMM with 401 "bad parameter" (N4 EC L133; TF GR L331-334),
// File Station with 400 "invalid parameter" (N4 EC L105), Auth/Info with 114 "lost parameters" (N4 EC L28; the
// fake's choice, no source shows DSM's answer there). A missing R parameter gets the same code.
// Common: 101 no api/method/version, 102 unknown API or wrong path, 103 unknown method, 104 version, 106 session
// timed out, 119 no session (GS E L25-50).
//
// | API method (versions)                    | parameters (source)                                                                                     | errors |
// |------------------------------------------|----------------------------------------------------------------------------------------------------------|--------|
// | SYNO.API.Info query (1)                  | R query (GS AI L43-48)                                                                                    | 114 |
// | SYNO.API.Auth login (1-7)                | R account, passwd; O session, format, otp_code, enable_syno_token, enable_device_token, device_id,        | 400 |
// |                                          |   device_name, logintype, timezone (GS LG L11-24; VE CLI L68-82 v3 format=sid)                           |     |
// | SYNO.API.Auth logout (1-7)               | O session                                                                                                 | —   |
// | FileStation.Upload upload (2-3)          | R path; O create_parents, overwrite (GS FU L10-15; N4 FS L1146-1150), O size (N4 U L104-106); file part    | 1800 no/mismatched Content-Length (GS E L97), 1802 no file part last, 1805/414 exists, 416 full |
// |                                          |   last with a filename (GS E L99 code 1802; N4 U L113-115); GS PC L321 and N4 U L115 send Content-Length  |     |
// | FileStation.Delete delete (1-2)          | R path (one path or JSON array); O recursive, search_taskid (N4 FS L1765-1810; VE CLI L195-203)           | 408 no such file |
// | V.API.Storage list (1)                   | none (GS S L8-21; N4 V L188-204)                                                                          | —   |
// | V.API.Network list (1)                   | none (GS N L3-10; N4 V L169-186)                                                                          | —   |
// | V.API.Guest create (1)                   | R guest_name; 1of storage_id|storage_name; R vdisks [{create_type 0, vdisk_size MiB} | {create_type 1,   | 401, 403 name (TF GR L343-346), 700 storage, 905 MAC, 906 image |
// |                                          |   image_id|image_name}], R vnics [{network_id, network_name?, mac?}]; O auto_clean_task                    |     |
// |                                          |   (TF GR L331-340; GS G L9-25; NC FX create-guest; NC AND L5724-5754). Answer {task_id}.                  |     |
// |                                          |   The guest is 1 vCPU / 1024 MiB until a set (I203).                                                      |     |
// | V.API.Guest set (1)                      | 1of guest_id|guest_name; O new_guest_name, description, vcpu_num, vram_size (MiB), autorun 0/1/2         | 401, 403, 402 sizing while running |
// |                                          |   (N4 V L294-366; NC DOC L693; NC AND L5876-5887, L6663-6676)                                              |     |
// | V.API.Guest get (1)                      | 1of guest_id|guest_name; O additional (N4 V L255-292; NC AND L5998-6003; GS C L130-138)                   | 401 unknown guest |
// | V.API.Guest list (1)                     | O additional (VE CLI L96-107; NC AND L6039-6045; N4 V L225-245)                                           | —   |
// | V.API.Guest delete (1)                   | 1of guest_id|guest_name (N4 V L368-398; NC FX delete; TF GR L535-537 by name)                             | 401, 402 running |
// | V.API.Guest.Action poweron (1)           | 1of guest_id|guest_name; O host_id, host_name (N4 V L400-449; VE CLI L150-171; NC APL L1529-1533)         | 904 already on (VE CLI L168), 902/903 refusePowerOn |
// | V.API.Guest.Action poweroff (1)          | 1of guest_id|guest_name (N4 V L451-485; NC APL L1526)                                                     | 907 already off |
// | V.API.Guest.Action shutdown (1)          | 1of guest_id|guest_name (N4 V L487-517; VE CLI L136-147)                                                  | 907 already off |
// | V.API.Guest.Image create (1)             | R image_name, ds_file_path, type (disk|vdsm|iso); 1of storage_ids|storage_names (JSON arrays);            | 401, 403 name, 700 storage |
// |                                          |   O auto_clean_task (N4 V L567-629; NC FX create-image; NC AND L5240-5251; GS S L25-47). Answer {task_id} |     |
// | V.API.Guest.Image list (1)               | none (GS I L21-34; N4 V L519-533)                                                                         | —   |
// | V.API.Guest.Image delete (1)             | 1of image_id|image_name (NC FX delete-image; GS C L91-98 by name)                                         | 401 |
// | V.API.Task.Info get (1)                  | R task_id (GS T L16-18; NC FX get-task; VE VM L45-56). N4 V L165 sends `taskid`: refused (401).           | 1000 no such task |
// | V.API.Task.Info list (1)                 | none (NC FX list-tasks; NC AND L6176-6186)                                                                | —   |
// | V.API.Task.Info clear (1)                | R task_id (NC FX clear-finished-tasks; NC AND L5966-5975)                                                 | 1000 |
// | V.Guest set (internal) v1                | R guest_id, R guest_name non-empty (I203); O iso_images [2 × image ID|"unmounted"], autorun,              | 401 (empty name, unknown image ID or a name), 402 sizing while running |
// |                                          |   new_guest_name, description, vcpu_num, vram_size (GS MM L80-85, G L70-79; TF GR L396-410, L471-493, L622-626) | |
// | V.Guest set (internal) v2, DSM UI        | R guest_id; O name, desc, cpu_weight, autorun, vcpu_num, vram_size, synovmm_ui_id (NC APL L1409-1464;     | 401, 402 sizing while running |
// |                                          |   v2 because APC L40-52 picks the highest common version of 1...2 and GS AI L5178-5183)                   |     |
// | V.Guest create (internal) v1-2, DSM UI   | R name, repo_id, vcpu_num, vram_size, vdisks [{…, vdisk_mode, vdisk_size GiB}], vnics [{…, vnic_type,      | 401, 403, 905 |
// |                                          |   mac, network_id}]; O iso_images, boot_from, bios, video_card, autorun, desc and the UI's other fields    |     |
// |                                          |   (NC APL L1323-1389; unverified writes per NC VI). Answer {} (the UI reads nothing), guest made at once.  |     |
//
// What the fake decides where no source shows DSM's behaviour (each is a choice, named so it can be revisited):
//   - autorun of a created guest: 0; boot settings of a public create: boot_from "disk", bios "legacy", video_card "vmvga",
//     disk controller 1 (VirtIO), NIC model 1 (VirtIO); iso_images ["unmounted","unmounted"].
//   - auto_clean_task absent = true (N4 V L569 defaults to True). With true the task is gone (1000) once a caller has read it
//     finished (VE VM L57-61 reads 1000 as "over"); with false it stays until Task.Info clear (NC AND L5965-5977, DOC L703-704).
//   - sizing (vcpu_num/vram_size) of a running guest: 402 on every set (NC APL L1396, L1438-1442 sends them only while off).
//   - unknown guest: 401; deleting a running guest: 402 (TF GR L528-532 powers off first); an unknown image ID in iso_images: 401.
//   - Storage list size/used in bytes (GS S L14-15 has no unit; NC APL L4233-4236 reads them as bytes); deleting a guest frees
//     its vdisks (not shown either way).
//   - no source reads boot_from/bios/iso_images back: get/list do not return them (NC DOC L695; nothing in GS/TF/N4 reads them).
//   - internal SYNO.Virtualization.Guest set v1: guest_name must be the guest's current name (GS has new_guest_name for a rename,
//     G L73); I203 only shows that an empty one is refused.
//   - internal SYNO.Virtualization.Guest get/list are not modelled (NC VI records no parameters or fields): 103.
//   - no source grows a disk in place (TF GR L173-175 RequiresReplace): no set takes vdisks, so they are refused (401).
//
// Image Factory stand-in, at the server's root like the real factory (DSM's API is under /webapi/, so
// they do not meet): GET /image/<schematic>/<version>/<asset> answers deterministic bytes with
// Content-Length (IF IMG L145-148); <asset>.sha256 answers "<hex>  <asset>\n" (IF CS L44-58) or, like an open-source
// build without the enterprise checksummer, HTTP 402 (IF IMG L65-69, H L435-439).
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { bitString, boolean, explicit, integer, octetString, oid, sequence, set, time, tlv, utf8String } from "./der";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** One call as the fake saw it: API, method, and its parameters without secrets and envelope (passwd, _sid, version). */
export interface RecordedCall {
  readonly api: string;
  readonly method: string;
  readonly params: Record<string, string>;
  /** File Station uploads only: the Content-Length header as sent (undefined: none, e.g. chunked). */
  readonly contentLength?: number;
}

export interface FakeDsmOptions {
  readonly user: string;
  readonly password: string;
  /** The VMM storage's size and what is used already, in bytes. Default: 1 TiB, 100 GiB used. */
  readonly storageBytes?: number;
  readonly usedBytes?: number;
}

export interface GuestRecord {
  guest_id: string;
  guest_name: string;
  status: "running" | "shutdown";
  storage_id: string;
  storage_name: string;
  vcpu_num: number;
  /** MiB. */
  vram_size: number;
  /** 0 off, 1 last state, 2 on (N4 V L313-314). */
  autorun: number;
  description: string;
  /** Two slots of image IDs or "unmounted"; slot 0 is the boot ISO in TF's model (TF GR L484-491). */
  iso_images: [string, string];
  /** As the DSM UI's internal create models them (NC APL L1349-1350, L1365). */
  boot_from: "disk" | "iso";
  bios: "legacy" | "uefi";
  video_card: string;
  /** vdisk_size in MiB; controller 1 VirtIO, 2 IDE, 3 SATA (NC AND L6091-6100). */
  vdisks: { vdisk_id: string; vdisk_size: number; controller: number; unmap: boolean }[];
  /** model 1 VirtIO, 2 e1000, 3 rtl8139 (NC AND L6109-6119). */
  vnics: { vnic_id: string; mac: string; network_id: string; network_name: string; model: number }[];
}

export interface ImageRecord {
  image_id: string;
  image_name: string;
  type: "disk" | "vdsm" | "iso";
  ds_file_path: string;
  storage_ids: string[];
  /** Bytes of the source file. */
  used_size: number;
}

interface TaskRecord {
  kind: "guest" | "image";
  info: Record<string, string>;
  reads: number;
  autoClean: boolean;
  lost: boolean;
}

const STORAGE = { storage_id: "storage-1", storage_name: "volume1", host_id: "host-1", host_name: "nas", volume_path: "/volume1" };
const NETWORKS = [{ network_id: "net-1", network_name: "Default VM Network" }];

class DsmError extends Error {
  constructor(readonly code: number) {
    super(`DSM error ${code}`);
  }
}

type Kind = "str" | "int" | "bool" | "json";
interface Param {
  readonly name: string;
  /** "R" required, "O" optional, or the name of a group of which at least one must be given. */
  readonly need: string;
  readonly kind: Kind;
}
interface MethodSpec {
  readonly versions: readonly [number, number];
  /** "name:need:kind", need R|O|<group>, kind str|int|bool|json. */
  readonly params: readonly Param[];
}

const spec = (versions: readonly [number, number], ...params: string[]): MethodSpec => ({
  versions,
  params: params.map((p) => {
    const [name = "", need = "O", kind = "str"] = p.split(":");
    return { name, need, kind: kind as Kind };
  }),
});

/** Where each API lives and its versions, as the DSM 7 dump of SYNO.API.Info has them (GS AI, lines in the TABLE). */
const API_INFO: Record<string, { path: string; minVersion: number; maxVersion: number }> = {
  "SYNO.API.Info": { path: "query.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.API.Auth": { path: "entry.cgi", minVersion: 1, maxVersion: 7 },
  "SYNO.FileStation.Upload": { path: "entry.cgi", minVersion: 2, maxVersion: 3 },
  "SYNO.FileStation.Delete": { path: "entry.cgi", minVersion: 1, maxVersion: 2 },
  "SYNO.Virtualization.API.Guest": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Guest.Action": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Guest.Image": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Task.Info": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Storage": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.API.Network": { path: "entry.cgi", minVersion: 1, maxVersion: 1 },
  "SYNO.Virtualization.Guest": { path: "entry.cgi", minVersion: 1, maxVersion: 2 },
};

const GUEST_REF = ["guest_id:guest", "guest_name:guest"];
const INTERNAL_SET_V1 = ["guest_id:R", "guest_name:R", "iso_images:O:json", "autorun:O:int", "new_guest_name:O", "description:O", "vcpu_num:O:int", "vram_size:O:int"];
const INTERNAL_SET_V2 = ["guest_id:R", "name:O", "desc:O", "cpu_weight:O:int", "autorun:O:int", "vcpu_num:O:int", "vram_size:O:int", "synovmm_ui_id:O"];
const INTERNAL_CREATE = [
  "name:R", "repo_id:R", "vcpu_num:R:int", "vram_size:R:int", "vdisks:R:json", "vnics:R:json",
  "repo_name:O", "host_id:O", "repo_host_name:O", "iso_images:O:json", "boot_from:O", "bios:O", "use_ovmf:O:bool", "video_card:O",
  "autorun:O:int", "desc:O", "cpu_weight:O:int", "cpu_pin_num:O:int", "cpu_passthru:O:bool", "hyperv_enlighten:O:bool", "kb_layout:O",
  "usb_version:O:int", "usbs:O:json", "is_windows_vm:O:bool", "is_general_vm:O:bool", "increaseAllocatedSize:O:int", "auto_switch:O:int",
  "vdisk_struct:O:json", "guest_privilege:O:json", "poweron_after_create:O:bool", "allocated_size:O", "size:O", "synovmm_ui_id:O",
];

/** The accepted parameters of each "API method", from the TABLE above. */
const METHODS: Record<string, MethodSpec> = {
  "SYNO.API.Info query": spec([1, 1], "query:R"),
  "SYNO.API.Auth login": spec([1, 7], "account:R", "passwd:R", "session:O", "format:O", "otp_code:O", "enable_syno_token:O", "enable_device_token:O", "device_id:O", "device_name:O", "logintype:O", "timezone:O"),
  "SYNO.API.Auth logout": spec([1, 7], "session:O"),
  "SYNO.FileStation.Upload upload": spec([2, 3], "path:R", "create_parents:O:bool", "overwrite:O:bool", "size:O:int"),
  "SYNO.FileStation.Delete delete": spec([1, 2], "path:R", "recursive:O:bool", "search_taskid:O"),
  "SYNO.Virtualization.API.Storage list": spec([1, 1]),
  "SYNO.Virtualization.API.Network list": spec([1, 1]),
  "SYNO.Virtualization.API.Guest create": spec([1, 1], "guest_name:R", "storage_id:storage", "storage_name:storage", "vdisks:R:json", "vnics:R:json", "auto_clean_task:O:bool"),
  "SYNO.Virtualization.API.Guest set": spec([1, 1], ...GUEST_REF, "new_guest_name:O", "description:O", "vcpu_num:O:int", "vram_size:O:int", "autorun:O:int"),
  "SYNO.Virtualization.API.Guest get": spec([1, 1], ...GUEST_REF, "additional:O"),
  "SYNO.Virtualization.API.Guest list": spec([1, 1], "additional:O"),
  "SYNO.Virtualization.API.Guest delete": spec([1, 1], ...GUEST_REF),
  "SYNO.Virtualization.API.Guest.Action poweron": spec([1, 1], ...GUEST_REF, "host_id:O", "host_name:O"),
  "SYNO.Virtualization.API.Guest.Action poweroff": spec([1, 1], ...GUEST_REF),
  "SYNO.Virtualization.API.Guest.Action shutdown": spec([1, 1], ...GUEST_REF),
  "SYNO.Virtualization.API.Guest.Image create": spec([1, 1], "image_name:R", "ds_file_path:R", "type:R", "storage_ids:storage:json", "storage_names:storage:json", "auto_clean_task:O:bool"),
  "SYNO.Virtualization.API.Guest.Image list": spec([1, 1]),
  "SYNO.Virtualization.API.Guest.Image delete": spec([1, 1], "image_id:image", "image_name:image"),
  "SYNO.Virtualization.API.Task.Info get": spec([1, 1], "task_id:R"),
  "SYNO.Virtualization.API.Task.Info list": spec([1, 1]),
  "SYNO.Virtualization.API.Task.Info clear": spec([1, 1], "task_id:R"),
  "SYNO.Virtualization.Guest set@1": spec([1, 1], ...INTERNAL_SET_V1),
  "SYNO.Virtualization.Guest set@2": spec([2, 2], ...INTERNAL_SET_V2),
  "SYNO.Virtualization.Guest create": spec([1, 2], ...INTERNAL_CREATE),
};

/** The accepted parameters as text, one line per API method, to print next to a recorded transcript. */
export function methodTable(): string[] {
  return Object.entries(METHODS).map(([key, s]) => {
    const need = (x: Param) => (x.need === "R" ? "R" : x.need === "O" ? "O" : `1of(${x.need})`);
    return `${key.replace(/@\d$/, "")} v${s.versions[0]}-${s.versions[1]}: ${s.params.map((x) => `${need(x)} ${x.name}`).join(", ") || "(none)"}`;
  });
}

/** DSM's "bad parameter" code for each API family (see the TABLE's preamble). */
function badParameterCode(api: string): number {
  if (api.startsWith("SYNO.Virtualization.")) return 401;
  if (api.startsWith("SYNO.FileStation.")) return 400;
  return 114;
}

/** The method's spec, or 103 (unknown method) / 104 (version outside the method's range). */
function methodSpec(api: string, method: string, version: number): MethodSpec {
  const exact = METHODS[`${api} ${method}@${version}`];
  if (exact) return exact;
  const any = METHODS[`${api} ${method}`];
  const versioned = Object.keys(METHODS).some((k) => k.startsWith(`${api} ${method}@`));
  if (!any) throw new DsmError(versioned ? 104 : 103);
  if (version < any.versions[0] || version > any.versions[1]) throw new DsmError(104);
  return any;
}

/** Refuses unknown parameters, missing required ones and values of the wrong kind, with the API's code. */
function checkParams(api: string, s: MethodSpec, p: Record<string, string>): void {
  const bad = badParameterCode(api);
  const known = new Map(s.params.map((x) => [x.name, x]));
  for (const key of Object.keys(p)) if (!known.has(key)) throw new DsmError(bad);
  const groups = new Map<string, boolean>();
  for (const x of s.params) {
    const value = p[x.name];
    const given = value !== undefined && value !== "";
    if (x.need === "R" && !given) throw new DsmError(bad);
    if (x.need !== "R" && x.need !== "O") groups.set(x.need, (groups.get(x.need) ?? false) || given);
    if (value === undefined) continue;
    if (x.kind === "int" && !/^-?\d+$/.test(value)) throw new DsmError(bad);
    if (x.kind === "bool" && value !== "true" && value !== "false") throw new DsmError(bad);
    if (x.kind === "json") {
      try {
        JSON.parse(value);
      } catch {
        throw new DsmError(bad);
      }
    }
  }
  for (const present of groups.values()) if (!present) throw new DsmError(bad);
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

interface Multipart {
  fields: Record<string, string>;
  file?: { name: string; size: number };
  /** True when a plain field came after the file part (DSM reads the file name from the last part: GS E L99, error 1802). */
  fileNotLast: boolean;
}

/** Multipart form fields and the one file (small test bodies only). */
function parseMultipart(body: Buffer, contentType: string): Multipart {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const fields: Record<string, string> = {};
  let file: { name: string; size: number } | undefined;
  let fileNotLast = false;
  if (!boundary) return { fields, fileNotLast };
  const parts = body.toString("latin1").split(`--${boundary[1] ?? boundary[2]}`).slice(1, -1);
  for (const part of parts) {
    const [head, ...rest] = part.replace(/^\r\n/, "").split("\r\n\r\n");
    const content = rest.join("\r\n\r\n").replace(/\r\n$/, "");
    const fieldName = /name="([^"]*)"/.exec(head ?? "")?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head ?? "")?.[1];
    if (filename !== undefined) file = { name: filename, size: Buffer.byteLength(content, "latin1") };
    else {
      if (file) fileNotLast = true;
      fields[fieldName] = content;
    }
  }
  return { fields, file, fileNotLast };
}

/** The stand-in ISO's bytes for a factory path: deterministic, 64 KiB, different for each path. */
export function factoryAssetBytes(path: string): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < 64 * 1024; i++) blocks.push(createHash("sha256").update(`${path}#${i}`).digest());
  return Buffer.concat(blocks);
}

interface Transport {
  upload?: Multipart;
  contentLength?: number;
  received: number;
}

export class FakeDsm {
  readonly caCertPem: string;
  /** Every API call in order (SYNO.API.Info, logins and logouts included). */
  readonly calls: RecordedCall[] = [];
  /** Downloads of the stand-in ISO (the Image Factory's /image/… path; checksum requests not included). */
  readonly downloads: string[] = [];
  readonly sessions = new Set<string>();
  /** Files on the NAS by path, with their size in bytes. */
  readonly files = new Map<string, number>();
  readonly images = new Map<string, ImageRecord>();
  readonly guests = new Map<string, GuestRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly server: https.Server;
  private nextId = 1;
  storageBytes: number;
  usedBytes: number;
  /** When set, the next call of this method finds its session timed out (common error 106) and ends it. */
  expireSessionAt?: string;
  /** Guests whose next power-on fails, by name, with this VMM code (e.g. 903, insufficient memory). */
  readonly refusePowerOn = new Map<string, number>();
  /** Guests whose next public SYNO.Virtualization.API.Guest set fails, by name, with this code; nothing changes. */
  readonly failNextSet = new Map<string, number>();
  /** Folders on a full volume: an upload there fails with File Station's 416. */
  readonly fullFolders = new Set<string>();
  /** "served": <asset>.sha256 answers the checksum line; "absent": HTTP 402 like an open-source Image Factory. */
  factoryChecksum: "served" | "absent" = "served";
  /** The next asset download serves other bytes than its checksum says (once). */
  corruptNextDownload = false;
  private readonly loseNext = new Set<"guest" | "image">();

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
        if (url.pathname.startsWith("/image/")) {
          const answer = this.factory(url.pathname);
          res.writeHead(answer.status, { "content-type": answer.type, "content-length": String(answer.body.length) }).end(answer.body);
          return;
        }
        const answer = this.handle(url.pathname, this.requestParams(url, req, body));
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

  /** The next task of this kind makes its guest or image, but Task.Info get never finds it (1000). */
  loseNextTask(kind: "guest" | "image"): void {
    this.loseNext.add(kind);
  }

  /** Task IDs DSM still holds (what Task.Info list answers). */
  get taskIds(): string[] {
    return [...this.tasks.entries()].filter(([, t]) => !t.lost).map(([id]) => id);
  }

  /** The recorded calls as `API method key=value …` lines, for transcripts and assertions. */
  callLines(from = 0): string[] {
    return this.calls
      .slice(from)
      .map((c) => [c.api, c.method, ...Object.entries(c.params).map(([k, v]) => `${k}=${v}`), ...(c.api === "SYNO.FileStation.Upload" ? [`content-length=${c.contentLength ?? "none"}`] : [])].join(" "));
  }

  private requestParams(url: URL, req: IncomingMessage, body: Buffer): { params: Record<string, string>; transport: Transport } {
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    const header = req.headers["content-length"];
    const transport: Transport = { received: body.length, contentLength: header === undefined ? undefined : Number(header) };
    const type = req.headers["content-type"] ?? "";
    if (type.startsWith("multipart/form-data")) {
      transport.upload = parseMultipart(body, type);
      Object.assign(params, transport.upload.fields);
    } else {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
    }
    return { params, transport };
  }

  private handle(path: string, request: { params: Record<string, string>; transport: Transport }): unknown {
    const { api = "", method = "", version = "", _sid, passwd, ...rest } = request.params;
    void passwd;
    const isUpload = api === "SYNO.FileStation.Upload";
    this.calls.push({ api, method, params: rest, ...(isUpload ? { contentLength: request.transport.contentLength } : {}) });
    try {
      if (!api || !method || !version) throw new DsmError(101);
      const info = API_INFO[api];
      if (!info) throw new DsmError(102);
      // The dump lists Info and Auth on entry.cgi too; query.cgi and auth.cgi are their classic paths (VE CLI L71).
      const paths = new Set([`/webapi/${info.path}`, ...(api === "SYNO.API.Info" ? ["/webapi/entry.cgi"] : []), ...(api === "SYNO.API.Auth" ? ["/webapi/auth.cgi"] : [])]);
      if (!paths.has(path)) throw new DsmError(102);
      const v = Number(version);
      if (!Number.isInteger(v) || v < info.minVersion || v > info.maxVersion) throw new DsmError(104);
      const open = api === "SYNO.API.Info" || api === "SYNO.API.Auth";
      if (!open && (!_sid || !this.sessions.has(_sid))) throw new DsmError(119);
      if (!open && this.expireSessionAt === method) {
        this.expireSessionAt = undefined;
        this.sessions.delete(_sid!);
        throw new DsmError(106);
      }
      checkParams(api, methodSpec(api, method, v), api === "SYNO.API.Auth" ? { ...rest, ...(passwd === undefined ? {} : { passwd }) } : rest);
      if (api === "SYNO.API.Info") return { success: true, data: this.info(rest.query ?? "") };
      if (api === "SYNO.API.Auth") return { success: true, data: this.auth(method, request.params, _sid) };
      return { success: true, data: this.call(`${api} ${method}`, v, rest, request.transport) ?? {} };
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
    if (sid) this.sessions.delete(sid);
    return {};
  }

  private id(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  private task(kind: "guest" | "image", info: Record<string, string>, autoClean: string | undefined): { task_id: string } {
    const task_id = this.id("task");
    const lost = this.loseNext.delete(kind);
    this.tasks.set(task_id, { kind, info, reads: 0, autoClean: autoClean !== "false", lost });
    return { task_id };
  }

  /** The guests a request names: guest_id (comma-joined list allowed, NC APL L1532) and/or guest_name must agree. */
  private guestsOf(p: Record<string, string>): GuestRecord[] {
    const all = [...this.guests.values()];
    const byName = p.guest_name ? all.find((g) => g.guest_name === p.guest_name) : undefined;
    if (p.guest_name && !byName) throw new DsmError(401);
    if (!p.guest_id) return [byName!];
    const found = p.guest_id.split(",").map((id) => {
      const g = this.guests.get(id);
      if (!g) throw new DsmError(401);
      return g;
    });
    if (byName && (found.length !== 1 || found[0] !== byName)) throw new DsmError(401);
    return found;
  }

  private guestOf(p: Record<string, string>): GuestRecord {
    const found = this.guestsOf(p);
    if (found.length !== 1) throw new DsmError(401);
    return found[0]!;
  }

  private storageOf(id: string | undefined, name: string | undefined): void {
    if ((id && id !== STORAGE.storage_id) || (name && name !== STORAGE.storage_name)) throw new DsmError(700);
  }

  private newMac(): string {
    const n = this.nextId++;
    return `02:11:32:fa:${((n >> 8) & 0xff).toString(16).padStart(2, "0")}:${(n & 0xff).toString(16).padStart(2, "0")}`;
  }

  /** vnics of a create, checked against the networks and the MACs in use (905). */
  private vnicsOf(items: Record<string, unknown>[], keys: readonly string[]): GuestRecord["vnics"] {
    const inUse = new Set([...this.guests.values()].flatMap((g) => g.vnics.map((n) => n.mac.toLowerCase())));
    return items.map((n) => {
      if (typeof n !== "object" || n === null || Object.keys(n).some((k) => !keys.includes(k))) throw new DsmError(401);
      const network_id = String(n.network_id ?? "");
      const network = NETWORKS.find((x) => x.network_id === network_id);
      if (network_id !== "" && !network) throw new DsmError(401);
      const mac = typeof n.mac === "string" && n.mac !== "" ? n.mac : this.newMac();
      if (inUse.has(mac.toLowerCase())) throw new DsmError(905);
      inUse.add(mac.toLowerCase());
      return { vnic_id: this.id("vnic"), mac, network_id, network_name: network?.network_name ?? "", model: 1 };
    });
  }

  private reserve(vdisks: GuestRecord["vdisks"]): void {
    const bytes = vdisks.reduce((s, d) => s + d.vdisk_size * MiB, 0);
    if (this.usedBytes + bytes > this.storageBytes) throw new DsmError(402);
    this.usedBytes += bytes;
  }

  /** iso_images of an internal set or create: two slots, each an ISO image's ID or empty ("unmounted"; the UI sends ""). */
  private isoSlots(value: string): [string, string] {
    const slots = JSON.parse(value) as unknown;
    if (!Array.isArray(slots) || slots.length !== 2) throw new DsmError(401);
    return slots.map((s) => {
      if (s === "unmounted" || s === "") return "unmounted";
      const image = typeof s === "string" ? this.images.get(s) : undefined;
      if (!image || image.type !== "iso") throw new DsmError(401);
      return s as string;
    }) as [string, string];
  }

  /** The guest as public get/list answer it (NC AND L6004-6122; VE CLI L96-107); no boot settings (none is read by any source). */
  private guestView(g: GuestRecord, additional: boolean): Record<string, unknown> {
    const base = { guest_id: g.guest_id, guest_name: g.guest_name, description: g.description, status: g.status, autorun: g.autorun, vcpu_num: g.vcpu_num, vram_size: g.vram_size, storage_id: g.storage_id, storage_name: g.storage_name };
    return additional ? { ...base, vdisks: g.vdisks.map((d) => ({ ...d })), vnics: g.vnics.map((n) => ({ ...n })) } : base;
  }

  /** Sizing of a running guest is refused (the fake's 402; NC APL L1438-1442 never sends it while running). */
  private resize(g: GuestRecord, vcpu: string | undefined, vram: string | undefined): void {
    const cpu = vcpu === undefined ? g.vcpu_num : Number(vcpu);
    const mem = vram === undefined ? g.vram_size : Number(vram);
    if (cpu < 1 || mem < 128) throw new DsmError(401);
    if (g.status === "running" && (cpu !== g.vcpu_num || mem !== g.vram_size)) throw new DsmError(402);
    g.vcpu_num = cpu;
    g.vram_size = mem;
  }

  private rename(g: GuestRecord, name: string | undefined): void {
    if (name === undefined || name === g.guest_name) return;
    if (name === "" || [...this.guests.values()].some((x) => x.guest_name === name)) throw new DsmError(name === "" ? 401 : 403);
    g.guest_name = name;
  }

  private autorun(value: string | undefined, allowed: number[]): number | undefined {
    if (value === undefined) return undefined;
    if (!allowed.includes(Number(value))) throw new DsmError(401);
    return Number(value);
  }

  private call(key: string, version: number, p: Record<string, string>, transport: Transport): unknown {
    const json = <T>(v: string | undefined): T => JSON.parse(v ?? "null") as T;
    switch (key) {
      case "SYNO.FileStation.Upload upload": {
        // 1800: no Content-Length, or a body of another size (GS E L97); both public clients send one (GS PC L321, N4 U L115).
        if (transport.contentLength === undefined || transport.contentLength !== transport.received) throw new DsmError(1800);
        const upload = transport.upload;
        if (!upload?.file || upload.fileNotLast || !upload.file.name) throw new DsmError(1802);
        const target = `${p.path}/${upload.file.name}`;
        if (this.files.has(target) && p.overwrite !== "true") throw new DsmError(p.overwrite === "false" ? 414 : 1805);
        if (this.fullFolders.has(p.path!) || this.usedBytes + upload.file.size > this.storageBytes) throw new DsmError(416);
        this.files.set(target, upload.file.size);
        return {};
      }
      case "SYNO.FileStation.Delete delete": {
        const raw = p.path!;
        const paths = raw.startsWith("[") ? json<unknown>(raw) : [raw];
        if (!Array.isArray(paths) || paths.some((x) => typeof x !== "string")) throw new DsmError(400);
        for (const file of paths as string[]) if (!this.files.has(file)) throw new DsmError(408);
        for (const file of paths as string[]) this.files.delete(file);
        return {};
      }
      case "SYNO.Virtualization.API.Storage list":
        return { storages: [{ ...STORAGE, status: "normal", size: this.storageBytes, used: this.usedBytes }] };
      case "SYNO.Virtualization.API.Network list":
        return { networks: NETWORKS };
      case "SYNO.Virtualization.API.Task.Info get": {
        const t = this.tasks.get(p.task_id!);
        if (!t || t.lost) throw new DsmError(1000);
        t.reads++;
        if (t.reads === 1) return { finish: false, task_info: { progress: 50, status: "running" } };
        if (t.autoClean) this.tasks.delete(p.task_id!);
        return { finish: true, task_info: { progress: 100, status: "finish", auto_clean_task: t.autoClean, ...t.info } };
      }
      case "SYNO.Virtualization.API.Task.Info list":
        return { task_ids: this.taskIds };
      case "SYNO.Virtualization.API.Task.Info clear": {
        const t = this.tasks.get(p.task_id!);
        if (!t || t.lost) throw new DsmError(1000);
        this.tasks.delete(p.task_id!);
        return {};
      }
      case "SYNO.Virtualization.API.Guest.Image create": {
        const name = p.image_name!;
        if (!["disk", "vdsm", "iso"].includes(p.type!)) throw new DsmError(401);
        if ([...this.images.values()].some((i) => i.image_name === name)) throw new DsmError(403);
        const size = this.files.get(p.ds_file_path!);
        if (size === undefined) throw new DsmError(401);
        const ids = p.storage_ids === undefined ? undefined : json<unknown>(p.storage_ids);
        const names = p.storage_names === undefined ? undefined : json<unknown>(p.storage_names);
        for (const list of [ids, names]) if (list !== undefined && (!Array.isArray(list) || list.length === 0)) throw new DsmError(401);
        if ((ids as string[] | undefined)?.some((s) => s !== STORAGE.storage_id) || (names as string[] | undefined)?.some((s) => s !== STORAGE.storage_name)) throw new DsmError(700);
        const image_id = this.id("image");
        this.images.set(image_id, { image_id, image_name: name, type: p.type as ImageRecord["type"], ds_file_path: p.ds_file_path!, storage_ids: [STORAGE.storage_id], used_size: size });
        return this.task("image", { image_id }, p.auto_clean_task);
      }
      case "SYNO.Virtualization.API.Guest.Image list":
        return { images: [...this.images.values()].map((i) => ({ image_id: i.image_id, image_name: i.image_name, type: i.type, status: "online", used_size: i.used_size })) };
      case "SYNO.Virtualization.API.Guest.Image delete": {
        const image = p.image_id ? this.images.get(p.image_id) : [...this.images.values()].find((i) => i.image_name === p.image_name);
        if (!image || (p.image_name && image.image_name !== p.image_name)) throw new DsmError(401);
        this.images.delete(image.image_id);
        return {};
      }
      case "SYNO.Virtualization.API.Guest create": {
        const name = p.guest_name!;
        if ([...this.guests.values()].some((g) => g.guest_name === name)) throw new DsmError(403);
        this.storageOf(p.storage_id, p.storage_name);
        const disks = json<Record<string, unknown>[]>(p.vdisks);
        const nics = json<Record<string, unknown>[]>(p.vnics);
        if (!Array.isArray(disks) || !Array.isArray(nics) || disks.length === 0) throw new DsmError(401);
        const vdisks = disks.map((d) => {
          if (typeof d !== "object" || d === null || Object.keys(d).some((k) => !["create_type", "vdisk_size", "image_id", "image_name"].includes(k))) throw new DsmError(401);
          if (d.create_type === 0 && Number.isInteger(d.vdisk_size) && (d.vdisk_size as number) > 0) return { vdisk_id: this.id("vdisk"), vdisk_size: d.vdisk_size as number, controller: 1, unmap: false };
          if (d.create_type !== 1) throw new DsmError(401);
          const image = [...this.images.values()].find((i) => i.image_id === d.image_id || (d.image_id === undefined && i.image_name === d.image_name));
          if (!image || image.type !== "disk") throw new DsmError(906);
          return { vdisk_id: this.id("vdisk"), vdisk_size: Math.ceil(image.used_size / MiB), controller: 1, unmap: false };
        });
        const vnics = this.vnicsOf(nics, ["network_id", "network_name", "mac"]);
        this.reserve(vdisks);
        const guest_id = this.id("guest");
        // DSM's sizing when create is not followed by a set: 1 vCPU, 1024 MB (I203).
        this.guests.set(guest_id, {
          guest_id, guest_name: name, status: "shutdown", storage_id: STORAGE.storage_id, storage_name: STORAGE.storage_name,
          vcpu_num: 1, vram_size: 1024, autorun: 0, description: "", iso_images: ["unmounted", "unmounted"],
          boot_from: "disk", bios: "legacy", video_card: "vmvga", vdisks, vnics,
        });
        return this.task("guest", { guest_id }, p.auto_clean_task);
      }
      case "SYNO.Virtualization.API.Guest list":
        return { guests: [...this.guests.values()].map((g) => this.guestView(g, p.additional === "true")) };
      case "SYNO.Virtualization.API.Guest get":
        return this.guestView(this.guestOf(p), p.additional === "true");
      case "SYNO.Virtualization.API.Guest set": {
        const g = this.guestOf(p);
        const failure = this.failNextSet.get(g.guest_name);
        if (failure !== undefined) {
          this.failNextSet.delete(g.guest_name);
          throw new DsmError(failure);
        }
        const next = { ...g };
        this.resize(next, p.vcpu_num, p.vram_size);
        next.autorun = this.autorun(p.autorun, [0, 1, 2]) ?? g.autorun;
        if (p.description !== undefined) next.description = p.description;
        this.rename(next, p.new_guest_name);
        Object.assign(g, next);
        return {};
      }
      case "SYNO.Virtualization.API.Guest delete": {
        const found = this.guestsOf(p);
        if (found.some((g) => g.status === "running")) throw new DsmError(402);
        for (const g of found) {
          this.usedBytes -= g.vdisks.reduce((s, d) => s + d.vdisk_size * MiB, 0);
          this.guests.delete(g.guest_id);
        }
        return {};
      }
      case "SYNO.Virtualization.API.Guest.Action poweron": {
        for (const g of this.guestsOf(p)) {
          if (g.status === "running") throw new DsmError(904);
          const refused = this.refusePowerOn.get(g.guest_name);
          if (refused !== undefined) {
            this.refusePowerOn.delete(g.guest_name);
            throw new DsmError(refused);
          }
          g.status = "running";
        }
        return {};
      }
      case "SYNO.Virtualization.API.Guest.Action poweroff":
      case "SYNO.Virtualization.API.Guest.Action shutdown": {
        for (const g of this.guestsOf(p)) {
          if (g.status === "shutdown") throw new DsmError(907);
          g.status = "shutdown";
        }
        return {};
      }
      case "SYNO.Virtualization.Guest set": {
        const g = this.guestOf({ guest_id: p.guest_id! });
        const next = { ...g };
        if (version === 1) {
          // guest_name is required and non-empty (I203); it names the guest like guest_id does (TF GR L622-626).
          if (p.guest_name !== g.guest_name) throw new DsmError(401);
          if (p.iso_images !== undefined && p.iso_images !== "null") next.iso_images = this.isoSlots(p.iso_images);
          this.resize(next, p.vcpu_num, p.vram_size);
          next.autorun = this.autorun(p.autorun, [0, 1, 2]) ?? g.autorun;
          if (p.description !== undefined) next.description = p.description;
          this.rename(next, p.new_guest_name);
        } else {
          this.resize(next, p.vcpu_num, p.vram_size);
          next.autorun = this.autorun(p.autorun, [0, 1]) ?? g.autorun;
          if (p.desc !== undefined) next.description = p.desc;
          this.rename(next, p.name);
        }
        Object.assign(g, next);
        return {};
      }
      case "SYNO.Virtualization.Guest create": {
        const name = p.name!;
        if ([...this.guests.values()].some((g) => g.guest_name === name)) throw new DsmError(403);
        this.storageOf(p.repo_id, p.repo_name);
        const disks = json<Record<string, unknown>[]>(p.vdisks);
        if (!Array.isArray(disks) || disks.length === 0) throw new DsmError(401);
        const diskKeys = ["type", "vdisk_mode", "name", "unmap", "iops_enable", "dev_limit", "dev_reservation", "dev_weight", "vdisk_size", "idx"];
        const vdisks = disks.map((d) => {
          if (typeof d !== "object" || d === null || Object.keys(d).some((k) => !diskKeys.includes(k)) || d.type !== "add") throw new DsmError(401);
          if (!Number.isInteger(d.vdisk_size) || (d.vdisk_size as number) < 1) throw new DsmError(401);
          // vdisk_size is in GiB in the UI's create (NC APL L1335 diskGiB); vdisk_mode 1..3 taken like the get's controller codes.
          const mode = d.vdisk_mode === undefined ? 1 : Number(d.vdisk_mode);
          if (![1, 2, 3].includes(mode)) throw new DsmError(401);
          return { vdisk_id: this.id("vdisk"), vdisk_size: (d.vdisk_size as number) * 1024, controller: mode, unmap: d.unmap === true };
        });
        const nics = json<Record<string, unknown>[]>(p.vnics);
        if (!Array.isArray(nics)) throw new DsmError(401);
        const vnics = this.vnicsOf(nics, ["prefer_sriov", "vnic_type", "type", "mac", "network_id"]).map((n, i) => {
          const model = nics[i]!.vnic_type === undefined ? 1 : Number(nics[i]!.vnic_type);
          if (![1, 2, 3].includes(model)) throw new DsmError(401);
          return { ...n, model };
        });
        const iso_images = p.iso_images === undefined ? (["unmounted", "unmounted"] as [string, string]) : this.isoSlots(p.iso_images);
        const boot_from = (p.boot_from ?? "disk") as GuestRecord["boot_from"];
        const bios = (p.bios ?? "legacy") as GuestRecord["bios"];
        if (!["disk", "iso"].includes(boot_from) || !["legacy", "uefi"].includes(bios)) throw new DsmError(401);
        if (boot_from === "iso" && iso_images[0] === "unmounted") throw new DsmError(401);
        const vcpu = Number(p.vcpu_num);
        const vram = Number(p.vram_size);
        if (vcpu < 1 || vram < 128) throw new DsmError(401);
        this.reserve(vdisks);
        const guest_id = this.id("guest");
        this.guests.set(guest_id, {
          guest_id, guest_name: name, status: p.poweron_after_create === "true" ? "running" : "shutdown", storage_id: STORAGE.storage_id, storage_name: STORAGE.storage_name,
          vcpu_num: vcpu, vram_size: vram, autorun: this.autorun(p.autorun, [0, 1]) ?? 0, description: p.desc ?? "", iso_images,
          boot_from, bios, video_card: p.video_card ?? "vmvga", vdisks, vnics,
        });
        return {};
      }
    }
    throw new DsmError(103);
  }

  /** The Image Factory stand-in: assets with Content-Length, and their .sha256 (enterprise) or 402 (open source). */
  private factory(path: string): { status: number; type: string; body: Buffer } {
    const match = /^\/image\/([0-9a-f]+)\/(v?[0-9][^/]*)\/([^/]+)$/.exec(path);
    if (!match) return { status: 404, type: "text/plain", body: Buffer.from("not found\n") };
    const asset = match[3]!;
    if (asset.endsWith(".sha256")) {
      if (this.factoryChecksum === "absent") return { status: 402, type: "text/plain", body: Buffer.from("enterprise not enabled: checksum endpoint is not available\n") };
      const name = asset.slice(0, -".sha256".length);
      const digest = createHash("sha256").update(factoryAssetBytes(path.slice(0, -".sha256".length))).digest("hex");
      return { status: 200, type: "text/plain", body: Buffer.from(`${digest}  ${name}\n`) };
    }
    this.downloads.push(path);
    const bytes = factoryAssetBytes(path);
    if (this.corruptNextDownload) {
      this.corruptNextDownload = false;
      const bad = Buffer.from(bytes);
      bad[0] = bad[0]! ^ 0xff;
      return { status: 200, type: "application/octet-stream", body: bad };
    }
    return { status: 200, type: "application/octet-stream", body: bytes };
  }
}
