import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { basisName, exactShortName, generateShortName, validateLongName } from '../src/engine/fat/short-name.js';

describe('exactShortName', () => {
  it('keeps names that are valid 8.3 in one case per part, with NT case flags', () => {
    expect(exactShortName('README.TXT')).toEqual({ raw: 'README  TXT', ntCase: 0 });
    expect(exactShortName('readme.txt')).toEqual({ raw: 'README  TXT', ntCase: 0x18 });
    expect(exactShortName('README.txt')).toEqual({ raw: 'README  TXT', ntCase: 0x10 });
    expect(exactShortName('a1')).toEqual({ raw: 'A1         ', ntCase: 0x08 });
    expect(exactShortName('1234')).toEqual({ raw: '1234       ', ntCase: 0 });
  });

  it('refuses mixed case, long parts, extra dots, spaces and characters short names forbid', () => {
    for (const name of ['Makefile', 'toolongname.txt', 'a.tar.gz', 'a b', 'x.text', 'a+b', 'é.txt', '.hidden', 'trailing.']) {
      expect(exactShortName(name)).toBeNull();
    }
  });
});

describe('basisName (fatgen103 section 7)', () => {
  it('upper-cases, strips spaces and leading dots, replaces invalid characters, truncates', () => {
    expect(basisName('The quick brown.fox')).toEqual({ base: 'THEQUICK', ext: 'FOX', lossy: true });
    expect(basisName('.bashrc')).toEqual({ base: 'BASHRC', ext: '', lossy: true });
    expect(basisName('naïve.txt')).toEqual({ base: 'NA_VE', ext: 'TXT', lossy: true });
    expect(basisName('archive.tar.gz')).toEqual({ base: 'ARCHIVET', ext: 'GZ', lossy: true });
  });
});

describe('generateShortName', () => {
  it('adds ~N tails that are unique in the directory', () => {
    const taken = new Set<string>();
    const names = ['Long File Name 1.txt', 'Long File Name 2.txt', 'Long File Name 3.txt'];
    const raws = names.map((n) => {
      const raw = generateShortName(n, taken);
      taken.add(raw);
      return raw;
    });
    expect(raws).toEqual(['LONGFI~1TXT', 'LONGFI~2TXT', 'LONGFI~3TXT']);
  });

  it('always yields 11 valid bytes not already taken, for any name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 20 }), (name, others) => {
        const taken = new Set<string>();
        for (const o of others) taken.add(generateShortName(o, taken));
        const raw = generateShortName(name, taken);
        expect(raw).toHaveLength(11);
        expect(taken.has(raw)).toBe(false);
        expect(raw).toMatch(/^[!#-)\-0-9@-Z^-~_]{1}[!#-)\-0-9@-Z^-~_ ]{7}[!#-)\-0-9@-Z^-~_ ]{3}$/);
      }),
    );
  });
});

describe('validateLongName', () => {
  it('rejects what FAT cannot store', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a:b', 'a*', 'x\u0001', 'a'.repeat(256), '...']) {
      expect(() => validateLongName(bad), bad).toThrow(/name/);
    }
    expect(() => validateLongName('ok name [1].txt')).not.toThrow();
  });
});
