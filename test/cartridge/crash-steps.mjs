// The writer's deterministic workload, shared by the crash-test child and the test that
// checks what survived: step k writes or removes one of FILES files, then /state = k.
export const FILES = 8;

export function stepContent(k) {
  let x = (k * 2654435761) >>> 0 || 1;
  const size = k % 4 === 0 ? 100 + (x % 400) : 600 + (x % 300_000);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 3 === 0 ? x & 0xff : (x & 0x0f) + 0x40; // partly compressible
  }
  return out;
}

/** Applies step k to a model (Map name -> step that wrote it); returns the operation. */
export function applyStep(model, k) {
  const name = `f${k % FILES}`;
  if (k % 5 === 0 && model.has(name)) {
    model.delete(name);
    return { kind: 'remove', name };
  }
  model.set(name, k);
  return { kind: 'write', name };
}
