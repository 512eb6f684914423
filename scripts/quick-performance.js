// Injected into the quick bundles (scripts/bundle-quick-start.js) for the global
// `performance`: diskkit reads only performance.now(), and only for durations. Node's
// global loads perf_hooks and a dozen internal modules on first use (a plain `cat` paid
// that); process.hrtime is already loaded. Same unit (ms), another origin.
export const performance = { now: () => Number(process.hrtime.bigint()) / 1e6 };
