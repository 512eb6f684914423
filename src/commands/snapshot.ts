/**
 * `diskkit snapshot create|list|delete|restore IMAGE [NAME]`: snapshots of a Cartridge
 * image. Create pins the last commit (one entry, whatever the image size); delete frees
 * the pages only that snapshot held; restore makes the snapshot the current tree (the
 * snapshot stays). `IMAGE@NAME:/PATH` reads a snapshot with ls, cat and cp.
 */
import type { Command } from 'commander';
import { escapeName, globalOptions, printJson, refuseReadOnlyImage, runAction, usageError } from './context.js';

interface SnapshotFlags {
  force?: boolean;
  invariant?: boolean;
}

type Store = import('../engine/cartridge/index.js').CartridgeStore;

async function openStore(image: string, flags: SnapshotFlags, writable: boolean): Promise<Store> {
  if (writable) refuseReadOnlyImage(image, Boolean(flags.force));
  const [{ CartridgeStore }, { openWithPassphrase }, { timePolicy }] = await Promise.all([import('../engine/cartridge/index.js'), import('./cartridge-secrets.js'), import('./write-times.js')]);
  const times = timePolicy(Boolean(flags.invariant));
  const nowMs = times.invariant ? times.now().getTime() : undefined;
  const { value } = await openWithPassphrase(image, (passphrase) => CartridgeStore.open(image, { writable, passphrase, nowMs }));
  return value;
}

function writeOptions(command: Command): Command {
  return command
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .option('--invariant', 'reproducible output (times from SOURCE_DATE_EPOCH, else 1980-01-01)');
}

export function define(program: Command): void {
  const snapshot = program
    .command('snapshot')
    .description('create, list, delete or restore snapshots of a Cartridge image')
    .addHelpText('after', '\nExamples:\n  diskkit snapshot create fw.cart v1\n  diskkit snapshot list fw.cart\n  diskkit cat fw.cart@v1:/etc/config\n  diskkit snapshot restore fw.cart v1\n  diskkit snapshot delete fw.cart v1');

  writeOptions(snapshot.command('create').description('pin the last commit under NAME (constant time, whatever the image size)').argument('<image>', 'Cartridge image').argument('<name>', 'snapshot name (1-255 bytes, no "/")')).action(
    (image: string, name: string, flags: SnapshotFlags, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        const store = await openStore(image, flags, true);
        try {
          store.createSnapshot(name);
          store.commit();
          const made = store.listSnapshots().find((s) => s.name === name)!;
          if (g.json) printJson({ image, snapshot: name, generation: made.generation, files: made.fileCount });
          else if (!g.quiet) process.stdout.write(`${escapeName(image)}: snapshot ${escapeName(name)} of generation ${made.generation} (${made.fileCount} files and directories)\n`);
        } finally {
          store.close();
        }
      });
    },
  );

  (snapshot.command('list').description('list the snapshots: name, generation, creation time, files').argument('<image>', 'Cartridge image')).action(
    (image: string, flags: SnapshotFlags, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        const store = await openStore(image, flags, false);
        try {
          const list = store.listSnapshots().map((s) => ({ name: s.name, generation: s.generation, created: new Date(s.createdMs).toISOString(), files: s.fileCount }));
          if (g.json) printJson({ image, generation: store.generation, snapshots: list });
          else if (list.length === 0) process.stdout.write(`${escapeName(image)}: no snapshots\n`);
          else {
            const width = Math.max(4, ...list.map((s) => escapeName(s.name).length));
            const lines = [`${'NAME'.padEnd(width)}  GENERATION  CREATED                   FILES`];
            for (const s of list) lines.push(`${escapeName(s.name).padEnd(width)}  ${String(s.generation).padStart(10)}  ${s.created.padEnd(24)}  ${s.files}`);
            process.stdout.write(lines.join('\n') + '\n');
          }
        } finally {
          store.close();
        }
      });
    },
  );

  writeOptions(snapshot.command('delete').description('delete a snapshot; the pages only it held become free').argument('<image>', 'Cartridge image').argument('<name>', 'snapshot name')).action(
    (image: string, name: string, flags: SnapshotFlags, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        const store = await openStore(image, flags, true);
        try {
          const before = store.file.pager.space.reusablePages();
          store.deleteSnapshot(name);
          store.commit();
          // Counted after the commit: only then do the snapshot's pages stop being pinned.
          const freed = Math.max(0, store.file.pager.space.reusablePages() - before);
          if (g.json) printJson({ image, deleted: name, pagesFreed: freed });
          else if (!g.quiet) process.stdout.write(`${escapeName(image)}: snapshot ${escapeName(name)} deleted (${freed} pages freed)\n`);
        } finally {
          store.close();
        }
      });
    },
  );

  writeOptions(snapshot.command('restore').description('make snapshot NAME the current state of the image (the snapshot stays)').argument('<image>', 'Cartridge image').argument('<name>', 'snapshot name')).action(
    (image: string, name: string, flags: SnapshotFlags, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        if (name.length === 0) throw usageError('give the name of the snapshot to restore');
        const store = await openStore(image, flags, true);
        try {
          store.restoreSnapshot(name);
          store.commit();
          if (g.json) printJson({ image, restored: name, generation: store.generation });
          else if (!g.quiet) process.stdout.write(`${escapeName(image)}: restored snapshot ${escapeName(name)} (now generation ${store.generation})\n`);
        } finally {
          store.close();
        }
      });
    },
  );
}
