/**
 * Where a worker (or in-process chunk) module is once built: its own small module so
 * that code which only names a worker file (the zstd fallback, the MFT parser) does
 * not load the worker pool, worker_threads and os with it.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * URL of a module that sits next to `base` once built. Under vitest, modules run from
 * src/ where only the .ts exists and Node cannot start a worker on it, so the built
 * copy under dist/ is used instead.
 */
export function builtModuleUrl(relative: string, base: string): URL {
  const here = new URL(relative, base);
  if (existsSync(fileURLToPath(here))) return here;
  const path = fileURLToPath(here);
  const marker = `${'/'}src${'/'}`;
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const built = new URL('file://' + path.slice(0, at) + '/dist/' + path.slice(at + marker.length));
    if (existsSync(fileURLToPath(built))) return built;
  }
  return here;
}

/**
 * URL to start a worker thread on: the one-file CommonJS build of `relative` (NAME.cjs,
 * written by scripts/bundle-workers.js) when there is one at least as new as the module,
 * else the module itself (a later `tsc` alone leaves the build behind: it is then stale).
 * A worker started on an ES module boots Node's ESM loader and then resolves, reads and
 * compiles each module of its graph before it runs; from one CommonJS file it starts
 * sooner and with less work on a core the copy shares.
 */
export function builtWorkerUrl(relative: string, base: string): URL {
  const module = builtModuleUrl(relative, base);
  // The build is written beside the built module: no second lookup (and src/ to dist/ mapping) for it.
  const bundled = new URL(module.href.replace(/\.js$/, '.cjs'));
  const bundledTime = statSync(fileURLToPath(bundled), { throwIfNoEntry: false })?.mtimeMs;
  if (bundledTime === undefined) return module;
  const moduleTime = statSync(fileURLToPath(module), { throwIfNoEntry: false })?.mtimeMs;
  return moduleTime === undefined || bundledTime >= moduleTime ? bundled : module;
}
