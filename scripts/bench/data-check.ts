/**
 * `npm run bench -- data-check [--data default-credit|breast] [--repeat N] [--json]`: the data check
 * (job.check at every party, as POST /jobs/validate runs it) on real parties in one process, on a
 * clean pair of files and on the same files with problems planted in them (a text column, empty
 * cells, a duplicate ID: every problem reported at once). Figures: seconds per check (median of
 * --repeat runs) and the number of problems found.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { checkJobData, inProcessFederation } from '@vfl/protocol';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { printTable, round } from './report';

export async function runDataCheckBench(argv: string[]): Promise<BenchResult> {
  const o = parseBenchOptions(argv, {
    data: { type: 'string', default: 'default-credit' },
    repeat: { type: 'string', default: '5' },
  });
  const data = resolveBenchData(o.data);
  if (data.kind !== 'shared') throw new Error('--data must be default-credit or breast');
  const repeat = Math.max(1, Number(o.repeat));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-check-'));
  try {
    fs.copyFileSync(path.join(data.dataRoot, data.guest), path.join(dir, 'guest.csv'));
    fs.copyFileSync(path.join(data.dataRoot, data.host), path.join(dir, 'host.csv'));
    // The same guest file with problems planted: every 7th row's x1 empty, every 11th row's x2 text, row 3's id repeated.
    const [header, ...rows] = fs.readFileSync(path.join(dir, 'guest.csv'), 'utf8').trim().split('\n');
    const firstId = rows[0].split(',')[0];
    const broken = rows.map((line, i) => {
      const cells = line.split(',');
      if (i % 7 === 0) cells[3] = '';
      if (i % 11 === 0) cells[4] = 'n/a';
      if (i === 2) cells[0] = firstId;
      return cells.join(',');
    });
    fs.writeFileSync(path.join(dir, 'broken.csv'), [header, ...broken].join('\n') + '\n');
    const federation = await inProcessFederation(
      [
        { partyId: 'bank', role: 'label' },
        { partyId: 'shop', role: 'feature' },
      ],
      dir,
      { ckksThreads: 0 },
    );
    const time = async (guest: string) => {
      const seconds: number[] = [];
      let problems = 0;
      for (let i = 0; i < repeat; i++) {
        const started = process.hrtime.bigint();
        const check = await checkJobData(
          {
            jobId: randomUUID(),
            model: 'split-lr',
            hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
            parties: [
              { partyId: 'bank', role: 'label', data: { path: guest, labelColumn: 'y' } },
              { partyId: 'shop', role: 'feature', data: { path: 'host.csv' } },
            ],
          },
          federation.channels,
          { labelled: true, batchSize: 1024 },
        );
        seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
        problems = check.problems.length;
      }
      seconds.sort((a, b) => a - b);
      return { seconds: seconds[seconds.length >> 1], problems };
    };
    const clean = await time('guest.csv');
    const withProblems = await time('broken.csv');
    printTable(`data check, ${rows.length} + ${rows.length} rows (${o.data}), median of ${repeat}`, [
      ['clean files', `${clean.seconds.toFixed(3)} s, ${clean.problems} problems`],
      ['planted problems', `${withProblems.seconds.toFixed(3)} s, ${withProblems.problems} problems reported at once`],
    ]);
    return {
      rows: rows.length,
      checkSeconds: round(clean.seconds, 3),
      checkWithProblemsSeconds: round(withProblems.seconds, 3),
      problemsFound: withProblems.problems,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
