#!/usr/bin/env node
// Entry point. `--version` is answered before anything is imported: start-up time
// is most of what a scripted call costs.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(pkg.version + '\n');
} else {
  // A plain `ls`, `info` or `fsck` runs without the command tree (dist/quick-start.js says why),
  // from one bundled file per command group (scripts/bundle-quick-start.js says why; each
  // bundle runs only its own commands); anything else goes straight to cli.js, without
  // parsing a bundle first (that cost every other command about 30 ms).
  const command = args.find((arg) => !arg.startsWith('-'));
  const bundle = command === 'fsck' ? '../dist/quick-fsck.bundle.js' : command === 'ls' || command === 'info' ? '../dist/quick-start.bundle.js' : null;
  if (bundle === null || !(await (await import(bundle)).runQuickly(args))) {
    const { main } = await import('../dist/cli.js');
    await main(process.argv);
  }
}
