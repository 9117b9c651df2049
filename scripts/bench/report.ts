/**
 * What the benchmarks share on the way out: the human table, rounding, peak RSS and the Node flags
 * a run had, and the one JSON line that scripts read.
 */
import type { BenchResult } from './options';

export type Row = [string, string];

/** A title and aligned `label  value` rows on stdout. */
export function printTable(title: string, rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(title);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

/** With --json, the figures as one object on the last stdout line, so callers can take `tail -n 1`. */
export function printJsonLine(result: BenchResult): void {
  console.log(JSON.stringify(result));
}

export function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

// Sampled every 100 ms from start-up: a bench's own allocations come and go between its phases.
let peakRss = process.memoryUsage().rss;
let rssSampler: NodeJS.Timeout | undefined;

export function startPeakRssSampler(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
}

export function stopPeakRssSampler(): void {
  clearInterval(rssSampler);
}

/** The highest resident set size sampled so far, in MiB (all parties, as they share this process). */
export function peakRssMb(): number {
  return Math.round(peakRss / 2 ** 20);
}

/** V8 flags this run started with (npm run bench adds nodeRuntimeFlags: see node-runtime.ts). */
export function nodeFlags(): string {
  return process.execArgv.join(' ');
}
