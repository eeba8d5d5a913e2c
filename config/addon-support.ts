// The Kubernetes minors each pinned add-on documents (toolchain/versions.json
// addons.compatibility), against a Kubernetes version: which add-ons fall outside their range,
// and whether each such case carries a recorded, reasoned exception.

export interface SupportRange {
  readonly min: string;
  readonly max: string;
  readonly source: string;
}

export interface SupportException {
  readonly addon: string;
  readonly kubernetes: string;
  readonly reason: string;
}

export interface AddonCompatibility {
  readonly kubernetes: Readonly<Record<string, SupportRange>>;
  readonly exceptions: readonly SupportException[];
}

/** "1.37.0" or "1.37" -> [1, 37]; throws on anything else. */
function minorOf(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: '${version}'`);
  return [Number(m[1]), Number(m[2])];
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * Problems for one Kubernetes version: an add-on outside its documented range with no exception
 * naming it and that minor (or an exception without a reason), and an exception that is no longer
 * needed (the minor is inside the range) or names an add-on with no range. Empty when all is well.
 */
export function addonSupportProblems(compat: AddonCompatibility, kubernetesVersion: string): string[] {
  const [major, minor] = minorOf(kubernetesVersion);
  const k = `${major}.${minor}`;
  const problems: string[] = [];
  for (const [addon, range] of Object.entries(compat.kubernetes)) {
    const inside = compare(minorOf(range.min), [major, minor]) <= 0 && compare([major, minor], minorOf(range.max)) <= 0;
    const exception = compat.exceptions.find((e) => e.addon === addon && e.kubernetes === k);
    if (inside && exception) problems.push(`${addon}: exception for Kubernetes ${k} is not needed (documented range ${range.min}-${range.max})`);
    if (!inside && !exception) problems.push(`${addon}: Kubernetes ${k} is outside its documented range ${range.min}-${range.max} (${range.source}) and no exception records why`);
    if (!inside && exception && exception.reason.trim().length < 20) problems.push(`${addon}: the exception for Kubernetes ${k} gives no reason`);
  }
  for (const e of compat.exceptions) {
    if (!compat.kubernetes[e.addon]) problems.push(`exception for '${e.addon}' names no add-on with a recorded range`);
  }
  return problems;
}
