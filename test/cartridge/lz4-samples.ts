import { seededRandom } from '../../src/engine/seeded-random.js';

/** Inputs that exercise every copy path: short and long literals, matches at offsets below 8, overlapping runs, long matches. */
export function lz4Samples(): Uint8Array[] {
  const random = seededRandom(11);
  const words = ['a', 'fox', 'jumps', 'over', 'the', 'lazy', 'dog', '\n', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'abcabcabc'];
  const text = (length: number) => {
    const parts: string[] = [];
    for (let total = 0; total < length; ) {
      const w = words[Math.floor(random() * words.length)]! + (random() < 0.3 ? String(Math.floor(random() * 1000)) : ' ');
      parts.push(w);
      total += w.length;
    }
    return new TextEncoder().encode(parts.join('')).subarray(0, length);
  };
  const noise = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
  const mixed = new Uint8Array(300_000);
  for (let at = 0; at < mixed.length; at += 10_000) mixed.set((at / 10_000) % 3 === 0 ? noise(10_000) : text(10_000), at);
  return [
    new Uint8Array(1),
    new Uint8Array(13).fill(7),
    new Uint8Array(65536).fill(0x41),
    Uint8Array.from({ length: 70_000 }, (_, i) => i % 3),
    Uint8Array.from({ length: 70_000 }, (_, i) => i % 7),
    text(1 << 20),
    noise(100_000),
    mixed,
  ];
}

/**
 * Malformed LZ4 blocks (each behind the 4-byte length prefix of §9.2) with the output
 * length a decoder is told to expect: every decoder must refuse each one without writing
 * past that length. `block` is a valid block of `length` bytes of output.
 */
export function hostileLz4Blocks(block: Uint8Array, length: number): [string, Uint8Array, number][] {
  return [
    ['cut short', block.subarray(0, block.length - 3), length],
    ['expects more', block, length + 1],
    ['expects less', block, length - 1],
    ['offset 0', Uint8Array.of(0, 0, 0, 0, 0x10, 0x61, 0x00, 0x00, 0x00), 8],
    ['offset before the start', Uint8Array.of(0, 0, 0, 0, 0x10, 0x61, 0x05, 0x00, 0x00), 8],
    ['literals past the block', Uint8Array.of(0, 0, 0, 0, 0xf0, 0x40, 0x61), 100],
    ['endless length bytes', Uint8Array.of(0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff), 1000],
    ['a huge match length', Uint8Array.of(0, 0, 0, 0, 0x1f, 0x61, 0x01, 0x00, ...new Array<number>(40).fill(0xff), 0x00, 0x00), 64],
    ['empty', Uint8Array.of(0, 0, 0, 0), 1],
  ];
}
