/** Median and spread of repeated runs: what every bench figure is reported as. */
export interface RunSummary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent. */
  spreadPct: number;
  runs: number[];
}

export function summarize(values: number[]): RunSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? 0 : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    median: r(median),
    min: r(sorted[0] ?? 0),
    max: r(sorted[n - 1] ?? 0),
    spreadPct: median > 0 ? Math.round(((sorted[n - 1]! - sorted[0]!) / median) * 1000) / 10 : 0,
    runs: values.map(r),
  };
}
