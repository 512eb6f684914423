/**
 * vitest globalSetup: builds the generated FAT fixtures (fixtures/generated/) when
 * they are missing or were made by another version of the fixture script. The
 * committed fat12.img is used as it is. Without the tools (outside CI) nothing is
 * built and the fixture tests skip through requireTools; under CI a missing tool
 * fails them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasTool } from './oracle.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const GENERATED_IMAGES = ['fat16', 'fat32', 'mbr', 'gpt'];
const TOOLS = ['mkfs.fat', 'mcopy', 'mdel', 'mattrib', 'mshowfat', 'sfdisk', 'sgdisk'];

function scriptStamp(): string {
  const hash = createHash('sha256');
  for (const file of ['make-fat-fixtures.sh', 'write-manifest.mjs']) hash.update(readFileSync(FIXTURES + file));
  return hash.digest('hex');
}

export default function setup(): void {
  const stampFile = `${FIXTURES}generated/.script-sha256`;
  const stamp = scriptStamp();
  const fresh = GENERATED_IMAGES.every((name) => existsSync(`${FIXTURES}generated/${name}.img`)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (fresh) return;
  if (!TOOLS.every(hasTool)) return;
  // The script writes fixtures/<name>.manifest.json; the committed manifests are the
  // expectation, so the fresh ones are compared with them (and the committed ones put back).
  const manifests = ['fat12', ...GENERATED_IMAGES].map((name) => `${FIXTURES}${name}.manifest.json`);
  const committed = new Map(manifests.filter(existsSync).map((path) => [path, readFileSync(path, 'utf8')]));
  execFileSync('bash', [`${FIXTURES}make-fat-fixtures.sh`, 'generated'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const differing: string[] = [];
  for (const [path, text] of committed) {
    if (readFileSync(path, 'utf8') !== text) differing.push(path);
    writeFileSync(path, text);
  }
  if (differing.length > 0) throw new Error(`generated fixtures differ from the committed manifests: ${differing.join(', ')} (rerun fixtures/make-fat-fixtures.sh and review the diff)`);
  writeFileSync(stampFile, stamp);
}
