#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.js in turn and rewrites BENCHMARKS.md.
// Each benchmark measures diskkit and its peer side by side in the same run and
// returns a Markdown section; this script adds the machine line and joins them.
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

const only = process.argv.slice(2);

// The `diskkit` command (bin/diskkit) starts Node without NODE_EXTRA_CA_CERTS, whose
// certificate parsing Node 20 does at every start. Every Node process of this run (the
// bare-Node floors, `node -e 0`) runs the same way, so no floor pays a start-up diskkit
// does not; the start-up section runs `node -e 0` with it too (HELD_NODE_EXTRA_CA_CERTS).
const extraCa = process.env.NODE_EXTRA_CA_CERTS;
if (extraCa !== undefined) {
  process.env.HELD_NODE_EXTRA_CA_CERTS = extraCa;
  delete process.env.NODE_EXTRA_CA_CERTS;
}
const dir = new URL('./', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));

function version(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim(); } catch { return 'absent'; }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ` +
  `${version('uname', ['-sr'])}; peers: ${version('mkfs.fat', ['--help']).replace(/^.*?(\d[\d.]+).*$/, 'dosfstools $1') || 'dosfstools'}, ${version('mtype', ['--version'])}, ${version('fls', ['-V'])}`;

const sections = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = await import(new URL(file, dir));
  const section = await mod.default({ log: (m) => process.stderr.write(`  ${m}\n`) });
  sections.push(section.trim());
}

// What the `diskkit` command adds to Node's environment (bin/diskkit), said once in the document.
const launcherNote = ` The \`diskkit\` command (bin/diskkit) starts Node with glibc's malloc tuned (\`GLIBC_TUNABLES\`: trim and mmap thresholds raised); the peers and the bare-Node floors run without it.`;

const doc = `# Benchmarks\n\nWritten by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Figures are measured in the same run as their peer or limit, page cache warm. Command rows are medians of repeated whole-process runs; the I/O, allocation and \`mft bench\` rows are in-process measurements against the raw-read limit. Ratios are what to compare across machines.${extraCa === undefined ? '' : ' `NODE_EXTRA_CA_CERTS` is set in this environment; the `diskkit` command drops it before starting Node, and every other Node process of the run (the bare-Node floors) ran without it too.'}${launcherNote}\n\nMachine: ${machine}\n\n${sections.join('\n\n')}\n`;
if (only.length === 0) writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), doc);
else process.stdout.write(doc);
