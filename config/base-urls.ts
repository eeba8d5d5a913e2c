// Kind 4 of the meaning rules (config/README.md): base URLs with extra parts. The program appends
// its own paths to these (DSM's /webapi/…, the Image Factory's /image/… and /schematics, the S3
// bucket and key), so anything after the host and port would be sent wrong or silently dropped,
// and credentials belong in encrypted secrets, not in a URL stored in plain stack config.
import { Ctx, issue, record, str } from "./check-helpers";

interface BaseUrl {
  readonly path: string[];
  /** What the service's base looks like, for the message. */
  readonly example: string;
  /** Where what the user put in the path belongs instead, if anywhere. */
  readonly pathHint: string;
  readonly secrets: string;
}

const BASE_URLS: BaseUrl[] = [
  {
    path: ["imageFactory", "url"],
    example: "https://factory.talos.dev",
    pathHint: "the program adds /schematics and /image/… itself, and pulls the installer from <host>/installer/…, since a container registry lives at its host's root",
    secrets: "the factory takes no credentials",
  },
  {
    path: ["synology", "url"],
    example: "https://nas.lan:5001",
    pathHint: "the plugin adds /webapi/… itself",
    secrets: "the password is the encrypted talos-cluster:synologyPassword, the account synology.user",
  },
  {
    path: ["backup", "s3", "endpoint"],
    example: "https://fsn1.your-objectstorage.com",
    pathHint: "the bucket goes in backup.s3.bucket and a key prefix in backup.s3.prefix",
    secrets: "the keys are the encrypted talos-cluster:backupAccessKey and backupSecretKey",
  },
];

/** What to remove from a base URL, or undefined when it is only scheme, host and port. */
export function baseUrlProblems(text: string, base: Pick<BaseUrl, "example" | "pathHint" | "secrets">): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return []; // not a URL at all: the field's own message says so
  }
  const problems: string[] = [];
  if (url.username || url.password) problems.push(`${text} carries credentials: remove the user name and password before the host (${base.secrets})`);
  if (url.pathname !== "/") problems.push(`${text} is a base URL: remove the path ${url.pathname} (${base.pathHint}), e.g. ${base.example}`);
  if (url.search) problems.push(`${text} is a base URL: remove the query ${url.search}`);
  if (url.hash || text.includes("#")) problems.push(`${text} is a base URL: remove the fragment ${url.hash || "#"}`);
  return problems;
}

export function checkBaseUrls(root: Record<string, unknown>, ctx: Ctx): void {
  for (const base of BASE_URLS) {
    const parent = base.path.slice(0, -1).reduce<Record<string, unknown>>((v, k) => record(v[k]), root);
    const text = str(parent[base.path[base.path.length - 1]!]);
    if (text !== undefined) for (const problem of baseUrlProblems(text, base)) issue(ctx, base.path, problem);
  }
}

/** The guarded settings, for the rule table's test. */
export const BASE_URL_PATHS = BASE_URLS.map((b) => b.path.join("."));
