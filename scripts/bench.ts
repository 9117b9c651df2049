/**
 * `npm run bench -- <name> [options] [--json]`: prints a human table and, as the last stdout line
 * with --json, one JSON object with the figures. Each benchmark lives in scripts/bench/<name>.ts,
 * whose header lists its options:
 *
 *   psi       two-party ECDH-PSI in one process, and its floor
 *   split-lr  federated split LR (real CKKS, in one process), and the same protocol under Paillier
 *   split-nn  federated split NN (real CKKS, in one process) and the same network trained centrally
 *   secureboost  federated SecureBoost (real BFV, in one process) and the same GBDT in plaintext
 *   objectives  regression and 4-class references on the diabetes fixtures: the plaintext split-LR
 *             algorithm and scikit-learn on the pooled rows
 *   binning   federated WOE/IV binning (real BFV, in one process) against the pooled computation,
 *             and the AUC of LR on WOE features against raw features and the label party alone
 *   api       GET /jobs (10,000 jobs in history), GET /jobs/:id and GET /health under load while
 *             a job trains, then queued jobs to completion (real services, PostgreSQL server)
 *   data-check  the data check (job.check at every party) on 30,000 rows, clean and with problems planted
 *   audit     audit appends and chain verification against the PostgreSQL server (DATABASE_URL),
 *             in a scratch database
 */
import { runApiBench } from './bench/api';
import { runAuditBench } from './bench/audit';
import { runBinningBench } from './bench/binning';
import { runDataCheckBench } from './bench/data-check';
import type { Benchmark } from './bench/options';
import { runPsiBench } from './bench/psi';
import { printJsonLine, startPeakRssSampler, stopPeakRssSampler } from './bench/report';
import { runSplitLrBench } from './bench/split-lr';
import { runSecureBoostBench } from './bench/secureboost';
import { runSplitNnBench } from './bench/split-nn';
import { runObjectivesBench } from './bench/objectives';

// Key order is the order the usage message lists them in.
const BENCHMARKS: Record<string, Benchmark> = {
  psi: runPsiBench,
  'split-lr': runSplitLrBench,
  'split-nn': runSplitNnBench,
  secureboost: runSecureBoostBench,
  objectives: runObjectivesBench,
  binning: runBinningBench,
  'data-check': runDataCheckBench,
  audit: runAuditBench,
  api: runApiBench,
};

startPeakRssSampler();

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const bench = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (!bench) throw new Error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options] [--json]`);
  const result = await bench(rest);
  if (json) printJsonLine(result);
}

// Exit explicitly, so that a handle a bench leaves open (a worker pool, a socket) cannot keep the process up.
main()
  .then(() => {
    stopPeakRssSampler();
    process.exit(0);
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
