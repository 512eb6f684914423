/**
 * The Cartridge magic (docs/cartridge-format.md §3) and the registry's probe, in a
 * module of their own: every command loads every format's probe, and superblock.ts
 * brings node:crypto and node:zlib with it.
 */
export const CARTRIDGE_MAGIC = Uint8Array.from([0x44, 0x4b, 0x43, 0x41, 0x52, 0x54, 0x0d, 0x0a]);

export function hasCartridgeMagic(head: Uint8Array): boolean {
  if (head.length < CARTRIDGE_MAGIC.length) return false;
  return CARTRIDGE_MAGIC.every((byte, i) => head[i] === byte);
}
