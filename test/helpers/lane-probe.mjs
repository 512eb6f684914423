/**
 * Preloaded into the CLI under test (`NODE_OPTIONS=--import THIS`), so into each lane
 * process of `mft index SRC...` too (src/engine/fleet/fleet-lane.ts; lanes inherit
 * NODE_OPTIONS). In a lane only:
 * - on its first job, writes the lane's view of two variables to
 *   LANE_PROBE_DIR/PID.json: NODE_EXTRA_CA_CERTS and LANE_PROBE_VALUE, and its Node flags (execArgv);
 * - with LANE_PROBE_JOBS set, appends each job's source, one a line, to that file
 *   (the order in which the lanes were handed their sources);
 * - when a job's source ends with LANE_PROBE_CRASH, the lane kills itself with
 *   SIGKILL before indexing it: a crash the lane's own code cannot catch.
 * Both run inside the lane's own 'message' listener, just before it.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (process.argv[1]?.endsWith('fleet-lane.js') && process.send !== undefined) {
  let written = false;
  const probe = (job) => {
    if (!written && process.env.LANE_PROBE_DIR) {
      written = true;
      const seen = { extraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null, probe: process.env.LANE_PROBE_VALUE ?? null, execArgv: process.execArgv };
      writeFileSync(join(process.env.LANE_PROBE_DIR, `${process.pid}.json`), JSON.stringify(seen));
    }
    if (process.env.LANE_PROBE_JOBS) appendFileSync(process.env.LANE_PROBE_JOBS, `${job.source}\n`);
    if (process.env.LANE_PROBE_CRASH && String(job.source).endsWith(process.env.LANE_PROBE_CRASH)) process.kill(process.pid, 'SIGKILL');
  };
  // Wraps the lane's own 'message' listener. A listener of this module's would start
  // the IPC channel's reading before the lane has one, and the first job would be lost.
  const on = process.on;
  process.on = function (event, listener) {
    return on.call(this, event, event === 'message' ? (job) => (probe(job), listener(job)) : listener);
  };
}
