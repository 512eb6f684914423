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

const ACTIONS = ['create', 'list', 'delete', 'restore'] as const;
type Action = (typeof ACTIONS)[number];

export function define(program: Command): void {
  program
    .command('snapshot')
    .description('create, list, delete or restore snapshots of a Cartridge image')
    .argument('<action>', 'create | list | delete | restore')
    .argument('<image>', 'Cartridge image')
    .argument('[name]', 'snapshot name (1-255 bytes, no "/"); not for list')
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .option('--invariant', 'reproducible output (times from SOURCE_DATE_EPOCH, else 1980-01-01)')
    .addHelpText(
      'after',
      '\ncreate pins the last commit under NAME (constant time, whatever the image size); delete frees the pages only that snapshot held; restore makes the snapshot the current state (the snapshot stays); list prints name, generation, creation time and entries.\n\nExamples:\n  diskkit snapshot create fw.cart v1\n  diskkit snapshot list fw.cart\n  diskkit cat fw.cart@v1:/etc/config\n  diskkit snapshot restore fw.cart v1\n  diskkit snapshot delete fw.cart v1',
    )
    .action((action: string, image: string, name: string | undefined, flags: SnapshotFlags, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        if (!(ACTIONS as readonly string[]).includes(action)) throw usageError(`snapshot takes create, list, delete or restore, not '${action}'`);
        const verb = action as Action;
        if (verb === 'list') {
          if (name !== undefined) throw usageError('snapshot list takes only IMAGE');
          return list(image, flags, g);
        }
        if (name === undefined || name.length === 0) throw usageError(`snapshot ${verb} needs IMAGE and NAME`);
        // One writer at a time (IMAGE.lock), as for every other write to a Cartridge.
        const release = (await import('../engine/cartridge/index.js')).acquireWriterLock(image);
        let store: Store;
        try {
          store = await openStore(image, flags, true);
        } catch (error) {
          release();
          throw error;
        }
        try {
          if (verb === 'create') {
            store.createSnapshot(name);
            store.commit();
            const made = store.listSnapshots().find((s) => s.name === name)!;
            if (g.json) printJson({ image, snapshot: name, generation: made.generation, files: made.fileCount });
            else if (!g.quiet) process.stdout.write(`${escapeName(image)}: snapshot ${escapeName(name)} of generation ${made.generation} (${made.fileCount} files and directories)\n`);
          } else if (verb === 'delete') {
            const before = store.file.pager.space.reusablePages();
            store.deleteSnapshot(name);
            store.commit();
            // Counted after the commit: only then do the snapshot's pages stop being pinned.
            const freed = Math.max(0, store.file.pager.space.reusablePages() - before);
            if (g.json) printJson({ image, deleted: name, pagesFreed: freed });
            else if (!g.quiet) process.stdout.write(`${escapeName(image)}: snapshot ${escapeName(name)} deleted (${freed} pages freed)\n`);
          } else {
            store.restoreSnapshot(name);
            store.commit();
            if (g.json) printJson({ image, restored: name, generation: store.generation });
            else if (!g.quiet) process.stdout.write(`${escapeName(image)}: restored snapshot ${escapeName(name)} (now generation ${store.generation})\n`);
          }
        } finally {
          store.close();
          release();
        }
      });
    });
}

async function list(image: string, flags: SnapshotFlags, g: ReturnType<typeof globalOptions>): Promise<void> {
  const store = await openStore(image, flags, false);
  try {
    const rows = store.listSnapshots().map((s) => ({ name: s.name, generation: s.generation, created: new Date(s.createdMs).toISOString(), files: s.fileCount }));
    if (g.json) printJson({ image, generation: store.generation, snapshots: rows });
    else if (rows.length === 0) process.stdout.write(`${escapeName(image)}: no snapshots\n`);
    else {
      const width = Math.max(4, ...rows.map((s) => escapeName(s.name).length));
      const lines = [`${'NAME'.padEnd(width)}  GENERATION  CREATED                   FILES`];
      for (const s of rows) lines.push(`${escapeName(s.name).padEnd(width)}  ${String(s.generation).padStart(10)}  ${s.created.padEnd(24)}  ${s.files}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
  } finally {
    store.close();
  }
}
