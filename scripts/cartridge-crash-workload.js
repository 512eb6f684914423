/**
 * The Cartridge crash test's workload, shared by the writer that gets killed and the
 * checker that judges what survived (scripts/cartridge-crash-test.js). Step k is fully
 * determined by k: it may create a snapshot (pinning commit k − 1), delete the oldest,
 * restore the newest, then write or remove one of FILES files, then sets /state = k and
 * commits. Some steps are followed by a compaction (two more commits, same content).
 */
export const FILES = 6;

/** The bytes step k writes: partly compressible, 100 B (inline) to ~150 KiB (several extents). */
export function stepContent(k) {
  let x = (k * 2654435761) >>> 0 || 1;
  const size = k % 4 === 0 ? 100 + (x % 400) : 600 + (x % 150_000);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 3 === 0 ? x & 0xff : (x & 0x0f) + 0x40;
  }
  return out;
}

/** What step k does, given the state after step k − 1 (mutated into the state after step k). */
export function applyStep(state, k) {
  const ops = [];
  if (k % 6 === 3) {
    const name = `s${k}`;
    state.snapshots.set(name, new Map(state.files));
    ops.push({ kind: 'snapshot', name });
  }
  if (k % 17 === 8 && state.snapshots.size > 0) {
    const name = [...state.snapshots.keys()].at(-1);
    state.files = new Map(state.snapshots.get(name));
    ops.push({ kind: 'restore', name });
  }
  if (k % 6 === 0 && state.snapshots.size > 2) {
    const name = state.snapshots.keys().next().value;
    state.snapshots.delete(name);
    ops.push({ kind: 'drop', name });
  }
  const file = `f${k % FILES}`;
  if (k % 5 === 0 && state.files.has(file)) {
    state.files.delete(file);
    ops.push({ kind: 'remove', name: file });
  } else {
    state.files.set(file, k);
    ops.push({ kind: 'write', name: file });
  }
  return { ops, compactAfter: k % 9 === 4 };
}

/** The state after step k: files (name -> step that wrote it) and snapshots (name -> files). */
export function simulate(k) {
  const state = { files: new Map(), snapshots: new Map() };
  for (let step = 1; step <= k; step++) applyStep(state, step);
  return state;
}
