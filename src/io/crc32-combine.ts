/**
 * CRC-32 (the zlib/PNG polynomial, reflected 0xEDB88320) of a concatenation from
 * the CRCs of its parts: crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B). Lets workers
 * checksum their own chunks while the merger still produces the checksum of the
 * whole stream, identical to zlib.crc32 over all bytes in one go.
 */
const POLY = 0xedb88320;

/** a·b mod P, in the reflected bit order CRC-32 uses (bit 31 is x^0). */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) mod P for k = 0..31. */
const X_POW_2K: number[] = (() => {
  const table: number[] = [];
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    table.push(p);
    p = multiplyModP(p, p);
  }
  return table;
})();

/** x^(8·bytes) mod P. */
function xPowBytes(bytes: number): number {
  let p = 0x80000000; // x^0
  let n = bytes;
  let k = 3; // 8 = 2^3
  while (n > 0) {
    if (n % 2 === 1) p = multiplyModP(X_POW_2K[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(xPowBytes(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}
