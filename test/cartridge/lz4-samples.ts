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
