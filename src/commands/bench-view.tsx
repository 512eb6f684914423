/**
 * The live bench view (ink + react), shown when stdout is a terminal: the conditions,
 * a progress line for the run under way, and each mode's row as it completes; the
 * final frame is the same report the plain table gives.
 */
import { useEffect, useState } from 'react';
import { Box, Text, render } from 'ink';
import type { BenchEvent, BenchReport, ModeRow } from '../engine/bench/run-bench.js';
import { formatBenchReport, modeRowCells, modeTableHeader } from './bench-table.js';
import { withUsableColumns } from './terminal.js';

interface ViewState {
  header: string | null;
  rows: { workload: string; row: ModeRow }[];
  progress: { workload: string; mode: string; run: number; runs: number; fraction: number } | null;
  done: string | null;
}

type Listener = (s: ViewState) => void;

class ViewStore {
  state: ViewState = { header: null, rows: [], progress: null, done: null };
  private listeners = new Set<Listener>();
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(patch: Partial<ViewState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }
}

function bar(fraction: number, width = 30): string {
  const n = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(n) + '░'.repeat(width - n);
}

/** `color` false (--no-color, NO_COLOR): no colour and no dim codes at all. */
export function BenchView({ store, color = true }: { store: ViewStore; color?: boolean }) {
  const [state, setState] = useState(store.state);
  useEffect(() => store.subscribe(setState), [store]);
  if (state.done) return <Text>{state.done}</Text>;
  return (
    <Box flexDirection="column">
      {state.header ? <Text dimColor={color}>{state.header}</Text> : null}
      {state.rows.map(({ workload, row }, i) => (
        <Text key={i} color={color && row.best ? 'green' : undefined}>
          {workload.padEnd(15)} {modeRowCells(row).join('  ')}
        </Text>
      ))}
      {state.progress ? (
        <Text>
          {state.progress.workload} · {state.progress.mode} · run {state.progress.run + 1}/{state.progress.runs} {bar(state.progress.fraction)} {Math.round(state.progress.fraction * 100)}%
        </Text>
      ) : null}
    </Box>
  );
}

export interface BenchViewHandle {
  onEvent: (event: BenchEvent) => void;
  finish: (report: BenchReport) => Promise<void>;
  abort: () => Promise<void>;
}

/** Mounts the view on `stdout`; the engine's events drive it. */
export async function startBenchView(stdout: NodeJS.WriteStream, options: { color: boolean } = { color: true }): Promise<BenchViewHandle> {
  const store = new ViewStore();
  // ink lays out against stdout.columns: a pty reporting 0 gets 80, not one character a line.
  const app = render(<BenchView store={store} color={options.color} />, { stdout: withUsableColumns(stdout), patchConsole: false, exitOnCtrlC: false });
  return {
    onEvent(event) {
      switch (event.type) {
        case 'start':
          store.set({ header: `${event.conditions.cache} cache · ${event.modes.join(', ')} · ${event.conditions.cpu} · ${event.conditions.cores} cores · Node ${event.conditions.node}\n${''.padEnd(16)}${modeTableHeader('rate').join('  ')}` });
          break;
        case 'progress':
          store.set({ progress: event });
          break;
        case 'row':
          store.set({ rows: [...store.state.rows, { workload: event.workload, row: event.row }], progress: null });
          break;
        case 'workload':
          break;
      }
    },
    async finish(report) {
      store.set({ done: formatBenchReport(report) });
      await new Promise((resolve) => setTimeout(resolve, 20));
      app.unmount();
      await app.waitUntilExit();
    },
    async abort() {
      app.unmount();
      await app.waitUntilExit().catch(() => {});
    },
  };
}
