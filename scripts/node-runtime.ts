/**
 * The Node flags the platform's processes run with on this machine.
 *
 * On two cores or fewer, V8's garbage-collector helper threads (four by default) only compete
 * with the CKKS worker threads, and the main thread stalls at each GC's join point while a
 * preempted helper finishes. With GC on the allocating thread a default-credit split-LR epoch
 * took 1.28 s of CPU instead of 1.51 s, and the main thread's GC pauses fell from 0.13 to 0.03 s
 * an epoch. Such flags must be given at start-up (V8 aborts if one is set later): the services
 * get them from the launcher, and `npm run bench` starts the benchmarks through this module.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export function nodeRuntimeFlags(cores: number = availableParallelism()): string[] {
  return cores <= 2 ? ['--single-threaded-gc'] : [];
}

/** `node dist/scripts/node-runtime.js <script> [args]`: runs the script under nodeRuntimeFlags, passing its exit code on. */
if (require.main === module) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) throw new Error('usage: node node-runtime.js <script> [args]');
  const run = spawnSync(process.execPath, [...nodeRuntimeFlags(), ...process.execArgv, script, ...args], {
    stdio: 'inherit',
  });
  if (run.error) throw run.error;
  process.exitCode = run.status ?? 1;
}
