/**
 * Progress bars for long operations: cli-progress on stderr, only when stderr is a
 * terminal and neither --quiet nor --json is set. cli-progress is imported only when
 * a bar is actually shown, so commands stay cheap to load.
 *
 * The bar changes no terminal mode (no hidden cursor, no line wrap turned off): a
 * Ctrl-C during a synchronous copy ends the process before any handler could put
 * them back. It is sized to fit the line instead, so it never wraps.
 */
import type { GlobalOptions } from './context.js';
import { usableColumns } from './terminal.js';

export interface Progress {
  /** Sets the bytes (or items) done so far. */
  update(done: number, total?: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

export function progressWanted(options: Pick<GlobalOptions, 'quiet' | 'json'>, stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !options.quiet && !options.json;
}

/** Starts a bar labelled `label` over `total` units (bytes by default) — or a no-op when not wanted. */
export async function startProgress(options: Pick<GlobalOptions, 'quiet' | 'json'>, label: string, total: number, unit: 'bytes' | 'items' = 'bytes'): Promise<Progress> {
  if (!progressWanted(options) || total <= 0) return NO_PROGRESS;
  const { default: cliProgress } = await import('cli-progress');
  const scale = unit === 'bytes' ? 1024 * 1024 : 1;
  const format = `${label} [{bar}] {percentage}% | {value}/{total} ${unit === 'bytes' ? 'MiB' : ''} | {eta_formatted}`;
  // Room the text around the bar takes at most (tokens at their widest), so the line never reaches the edge.
  const widest = format.replace('{bar}', '').replace('{percentage}', '100').replace(/\{value\}|\{total\}/g, String(Math.ceil(total / scale))).replace('{eta_formatted}', '99h59m');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format,
      barsize: Math.max(5, Math.min(40, usableColumns(process.stderr) - widest.length - 1)),
      hideCursor: false,
      linewrap: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.ceil(total / scale), 0);
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) bar.setTotal(Math.ceil(newTotal / scale));
      bar.update(Math.floor(done / scale));
    },
    stop() {
      bar.stop();
    },
  };
}
