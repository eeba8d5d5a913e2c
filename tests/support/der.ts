// Just enough DER (ITU-T X.690) to write an X.509 v3 certificate (RFC 5280 §4.1). Tests build their
// certificates at run time with this and node:crypto, so the repository holds no key, even a test one.

/** One tag-length-value; `tag` is the whole identifier octet (class, constructed bit, number). */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

// Definite form: short below 128, otherwise 0x80 | count followed by the big-endian count of octets.
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const octets: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
export const set = (...items: Buffer[]) => tlv(0x31, ...items);
export const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const octetString = (bytes: Buffer) => tlv(0x04, bytes);
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
/** `[n] EXPLICIT`: context-specific, constructed. */
export const explicit = (n: number, ...content: Buffer[]) => tlv(0xa0 | n, ...content);
/** A BIT STRING whose last `unusedBits` bits are padding (X.690 §8.6). */
export const bitString = (bytes: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), bytes);

/** A non-negative INTEGER in the fewest octets, with a 0x00 in front when the top bit is set (two's complement). */
export function integer(value: number | Buffer): Buffer {
  const hex = typeof value === "number" ? value.toString(16) : "";
  let bytes = typeof value === "number" ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex") : value;
  while (bytes.length > 1 && bytes[0] === 0x00 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
  if (bytes[0]! >= 0x80) bytes = Buffer.concat([Buffer.from([0x00]), bytes]);
  return tlv(0x02, bytes);
}

/** An OBJECT IDENTIFIER from its dotted form: 40·a + b, then base-128 arcs with the high bit as "more". */
export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const octets: number[] = [];
  for (const arc of [40 * a! + b!, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    octets.push(...chunk);
  }
  return tlv(0x06, Buffer.from(octets));
}

/**
 * A certificate validity time as RFC 5280 §4.1.2.5 wants it: UTCTime (YYMMDDHHMMSSZ) for 1950–2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) otherwise; whole seconds, UTC.
 */
export function time(date: Date): Buffer {
  const digits = `${date.toISOString().slice(0, 19).replace(/[-T:]/g, "")}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), "ascii")) : tlv(0x18, Buffer.from(digits, "ascii"));
}
