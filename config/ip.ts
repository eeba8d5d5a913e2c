// IPv4 addresses and CIDRs as numbers, for the config's cross-field checks. Pure.

/** A parsed IPv4 CIDR: the network address, prefix length and the range it covers. */
export interface Cidr {
  readonly text: string;
  readonly prefix: number;
  readonly first: number;
  readonly last: number;
}

// No leading zeros: Go's net.ParseIP and netip (Talos, the Talos provider, kube-apiserver) refuse
// them since Go 1.17, because some parsers read them as octal.
const OCTET = "(0|[1-9]\\d{0,2})";
const OCTETS = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The address as a 32-bit number, or undefined when it is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const m = OCTETS.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

/** `a.b.c.d/n`: undefined when malformed. `strict` also requires no host bits (10.244.0.0/16, not 10.244.1.0/16). */
export function parseCidr(text: string, strict = true): Cidr | undefined {
  const [addr, bits, ...rest] = text.split("/");
  if (rest.length || addr === undefined || bits === undefined || !/^\d{1,2}$/.test(bits)) return undefined;
  const ip = parseIpv4(addr);
  const prefix = Number(bits);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ip / size) * size;
  if (strict && first !== ip) return undefined;
  return { text, prefix, first, last: first + size - 1 };
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.first && ip <= cidr.last;
}

export function formatIpv4(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join(".");
}

/**
 * Ranges no node, gateway or DNS server can have (IANA IPv4 Special-Purpose Address Registry,
 * RFC 6890; RFC 1122 for 0/8 and 127/8, RFC 3927 link-local, RFC 5771 multicast, RFC 1112 class E).
 */
export const LOOPBACK = "127.0.0.0/8";
const NOT_HOST_RANGES: readonly [string, string][] = [
  ["0.0.0.0/8", "in 0.0.0.0/8 (\"this network\")"],
  [LOOPBACK, "a loopback address (127.0.0.0/8)"],
  ["169.254.0.0/16", "a link-local address (169.254.0.0/16)"],
  ["224.0.0.0/4", "a multicast address (224.0.0.0/4)"],
  ["255.255.255.255/32", "the broadcast address"],
  ["240.0.0.0/4", "a reserved address (240.0.0.0/4)"],
];

/** Why this address cannot be a machine's own address, or undefined when it can. `loopback`: accept 127.0.0.0/8. */
export function notAHostAddress(ip: number, { loopback = false } = {}): string | undefined {
  for (const [range, why] of NOT_HOST_RANGES) {
    if (loopback && range === LOOPBACK) continue;
    if (contains(parseCidr(range)!, ip)) return why;
  }
  return undefined;
}

/** The private ranges of RFC 1918. */
export const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((c) => parseCidr(c)!);

/** Whether the ranges together cover every IPv4 address. */
export function coverEverything(ranges: readonly Cidr[]): boolean {
  let next = 0;
  for (const r of [...ranges].sort((a, b) => a.first - b.first)) {
    if (r.first > next) return false;
    next = Math.max(next, r.last + 1);
  }
  return next > 0xffffffff;
}
