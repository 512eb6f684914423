/**
 * storableLongName against a model written here from the rules it implements
 * (fatgen103 section 7's characters a long name may not hold become '_', then trailing
 * dots and spaces go, as Windows drops them): random names over an alphabet rich in
 * the awkward characters, and the names of the mcopy experiment by hand.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { storableLongName } from '../src/engine/fat/storable-name.js';
import { validateNewName } from '../src/engine/fat/directory-writer.js';

/** The model: one character at a time, no regular expressions shared with the code. */
function model(name: string): string | null {
  const forbidden = '"*/:<>?\\|';
  let out = '';
  for (const c of name) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f || forbidden.includes(c) ? '_' : c;
  }
  let end = out.length;
  while (end > 0 && (out[end - 1] === '.' || out[end - 1] === ' ')) end--;
  out = out.slice(0, end);
  if (name === '.' || name === '..' || name.length > 255 || out === '' || out === name) return null;
  return out;
}

const awkward = fc.constantFrom('a', 'B', '.', ' ', '?', '*', ':', '"', '<', '>', '|', '\\', '/', '\u0001', '\t', '\u007f', 'é', '~', '_');

describe('storableLongName', () => {
  it('gives what the model gives for random names', () => {
    fc.assert(
      fc.property(fc.array(awkward, { minLength: 1, maxLength: 12 }), (chars) => {
        const name = chars.join('');
        expect(storableLongName(name)?.name ?? null).toBe(model(name));
      }),
      { numRuns: 3000 },
    );
  });

  it('returns only names FAT stores as they are, and is settled on its own output', () => {
    fc.assert(
      fc.property(fc.array(awkward, { minLength: 1, maxLength: 12 }), (chars) => {
        const s = storableLongName(chars.join(''));
        if (s === null) return;
        expect(() => validateNewName(s.name, `/${s.name}`)).not.toThrow();
        expect(storableLongName(s.name)).toBeNull();
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['trail.', 'trail', "a name ending in a dot or a space"],
    ['sp ', 'sp', 'a name ending in a dot or a space'],
    ['a..', 'a', 'a name ending in a dot or a space'],
    ['x. .', 'x', 'a name ending in a dot or a space'],
    ['q?m', 'q_m', "'?'"],
    ['a*b?c.', 'a_b_c', "'*', '?' or a name ending in a dot or a space"],
    ['ctl\u0001x', 'ctl_x', 'control characters'],
    ['dq"x', 'dq_x', `'"'`],
  ])('%j is stored as %j (FAT cannot store %s)', (name, stored, what) => {
    expect(storableLongName(name)).toEqual({ name: stored, reason: `FAT cannot store ${what}` });
  });

  it.each(['ok.txt', ' lead', '.hid', 'a b', 'x.y.z'])('%j needs no change', (name) => {
    expect(storableLongName(name)).toBeNull();
  });

  it.each(['...', '. .', ' ', '.', '..', `${'x'.repeat(256)}.`])('%j has no storable form: left for the write to refuse', (name) => {
    expect(storableLongName(name)).toBeNull();
    expect(() => validateNewName(name, `/${name}`)).toThrow(expect.objectContaining({ code: 'E_BAD_NAME' }));
  });
});
