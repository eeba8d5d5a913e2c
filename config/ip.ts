// IPv4 addresses and CIDRs as numbers, for the config's cross-field checks. Pure.

/** A parsed IPv4 CIDR: the network address, prefix length and the range it covers. */
export interface Cidr {
  readonly text: string;
  readonly prefix: number;
  readonly first: number;
  readonly last: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

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
