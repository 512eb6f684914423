/**
 * On-disk structures declared once, as data: field name -> offset and type. The
 * same declaration decodes and encodes, and `defineStruct` checks at module load
 * that no field runs past the declared size or overlaps another.
 */
import { readU16LE, readU32LE, readU64LE, readU8, writeU16LE, writeU32LE, writeU64LE, writeU8 } from './binary.js';
import { DiskkitError, ErrorCode } from './errors.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | { bytes: number };

export interface FieldSpec {
  offset: number;
  type: FieldType;
}

type ValueOf<T extends FieldType> = T extends { bytes: number } ? Uint8Array : number;

export type Decoded<F extends Record<string, FieldSpec>> = { [K in keyof F]: ValueOf<F[K]['type']> };

export interface Struct<F extends Record<string, FieldSpec>> {
  readonly size: number;
  readonly fields: F;
  /** Decodes the structure at `offset` of `buf`. Byte fields are copies. */
  decode(buf: Uint8Array, offset?: number): Decoded<F>;
  /** Encodes `value` into `buf` at `offset`; fields not given are left as they are. */
  encode(value: Partial<Decoded<F>>, buf: Uint8Array, offset?: number): void;
}

function widthOf(type: FieldType): number {
  if (typeof type === 'object') return type.bytes;
  return { u8: 1, u16: 2, u32: 4, u64: 8 }[type];
}

export function defineStruct<F extends Record<string, FieldSpec>>(name: string, size: number, fields: F): Struct<F> {
  const used = new Uint8Array(size);
  for (const [field, spec] of Object.entries(fields)) {
    const end = spec.offset + widthOf(spec.type);
    if (spec.offset < 0 || end > size) throw new Error(`${name}.${field} runs past the ${size}-byte structure`);
    for (let i = spec.offset; i < end; i++) {
      if (used[i]) throw new Error(`${name}.${field} overlaps another field at byte ${i}`);
      used[i] = 1;
    }
  }
  const entries = Object.entries(fields) as [keyof F & string, FieldSpec][];
  return {
    size,
    fields,
    decode(buf, offset = 0) {
      if (offset < 0 || offset + size > buf.length) {
        throw new DiskkitError(ErrorCode.TRUNCATED, `${name} at offset ${offset} runs past the end of the data`, {
          context: { structure: name, offset, length: buf.length },
        });
      }
      const out = {} as Record<string, unknown>;
      for (const [field, spec] of entries) {
        const at = offset + spec.offset;
        const t = spec.type;
        if (typeof t === 'object') out[field] = Uint8Array.prototype.slice.call(buf, at, at + t.bytes);
        else if (t === 'u8') out[field] = readU8(buf, at);
        else if (t === 'u16') out[field] = readU16LE(buf, at);
        else if (t === 'u32') out[field] = readU32LE(buf, at);
        else out[field] = readU64LE(buf, at);
      }
      return out as Decoded<F>;
    },
    encode(value, buf, offset = 0) {
      for (const [field, spec] of entries) {
        const v = (value as Record<string, unknown>)[field];
        if (v === undefined) continue;
        const at = offset + spec.offset;
        const t = spec.type;
        if (typeof t === 'object') {
          const bytes = v as Uint8Array;
          if (bytes.length !== t.bytes) throw new Error(`${name}.${field} needs ${t.bytes} bytes, got ${bytes.length}`);
          buf.set(bytes, at);
        } else if (t === 'u8') writeU8(buf, at, v as number);
        else if (t === 'u16') writeU16LE(buf, at, v as number);
        else if (t === 'u32') writeU32LE(buf, at, v as number);
        else writeU64LE(buf, at, v as number);
      }
    },
  };
}
