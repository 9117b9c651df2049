/**
 * What the benchmarks share on the way in: option parsing (every bench accepts --json) and where
 * the real data sets are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A benchmark: parses its own options, prints its table, returns the figures for the JSON line. */
export type Benchmark = (argv: string[]) => Promise<BenchResult>;
export type BenchResult = Record<string, unknown>;

type OptionConfigs = NonNullable<ParseArgsConfig['options']>;
const JSON_OPTION = { json: { type: 'boolean' } } as const;

/**
 * parseArgs (strict, so an unknown option fails with Node's own message) over a bench's options
 * plus --json, which the dispatcher reads but every bench must accept.
 */
export function parseBenchOptions<const O extends OptionConfigs>(argv: string[], options: O) {
  return parseArgs<{ args: string[]; options: O & typeof JSON_OPTION }>({
    args: argv,
    options: { ...options, ...JSON_OPTION },
  }).values;
}

// The repo root holds package.json (from scripts/bench or dist/scripts/bench); the shared data
// sits beside the repo (../shared/data).
export const REPO_ROOT = [__dirname, '..', '../..', '../../..']
  .map((up) => path.resolve(__dirname, up))
  .find((d) => fs.existsSync(path.join(d, 'package.json')))!;
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

/** Where --data points: a label (guest) and feature (host) CSV pair in SHARED_DATA, or data the bench generates. */
export type BenchData = { kind: 'shared'; dataRoot: string; guest: string; host: string } | { kind: 'synthetic' };

/** Resolves --data (default-credit, breast or synthetic), failing early if a shared data set is missing. */
export function resolveBenchData(data: string | undefined): BenchData {
  if (data === 'default-credit' || data === 'breast') {
    const stem = data === 'breast' ? 'breast' : 'default_credit';
    const guest = `${stem}_hetero_guest.csv`;
    if (!fs.existsSync(path.join(SHARED_DATA, guest)))
      throw new Error(`${path.join(SHARED_DATA, guest)} not found (expects ../shared/data beside the repo)`);
    return { kind: 'shared', dataRoot: SHARED_DATA, guest, host: `${stem}_hetero_host.csv` };
  }
  if (data === 'synthetic') return { kind: 'synthetic' };
  throw new Error(`--data must be default-credit, breast or synthetic, got ${data}`);
}
