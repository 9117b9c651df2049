/**
 * `npm run demo`: three processes — a coordinator, a bank (label party) and an e-commerce party
 * (feature party) — align their customers by PSI, train a split logistic regression under CKKS,
 * evaluate it, and audit every step in PostgreSQL (embedded unless DATABASE_URL is set).
 *
 *   npm run demo -- [--guest-data FILE --host-data FILE] [--id-column id] [--label-column y]
 *                   [--epochs N] [--batch-size N] [--learning-rate X] [--model split-lr|split-nn|secureboost]
 *                   [--trees N] [--depth N] [--missing mean|median|zero|error] [--categorical detect|COL,…]
 *                   [--feature-columns COL,…] [--exclude-columns COL,…]
 *                   [--rows N] [--seed N] [--transport tcp|nats] [--json]
 *                   [--objective binary|regression|multiclass]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  writeSyntheticVfl,
  BANK_LABEL_COLUMN,
  loadOptionsOf,
  parsePartyTable,
  plannedColumns,
  preprocessingSpec,
  readCsvRecords,
} from '@vfl/data';
import { DEFAULT_VALIDATION_FRACTION, scheduleForRows } from '@vfl/ml';
import { launchFederation, tail } from './federation-launcher';
import { runJob, JobOutcome } from './job-client';
import {
  isSecureBoostResult,
  isSplitLrResult,
  isSplitNnResult,
  isTargetResult,
  minimumBatchRows,
  upliftWarnings,
} from '@vfl/protocol';
import { objectiveSummary, printObjectiveSummary } from './demo-objective';

const HELP = `usage: npm run demo -- [options]
  --guest-data FILE      label party's CSV (FATE-style guest file); default: seeded synthetic bank table
  --host-data FILE       feature party's CSV (FATE-style host file); default: seeded synthetic e-commerce table
  --id-column NAME       id column in both files (default: id)
  --label-column NAME    label column in the guest file (default: y, or "default" for synthetic data)
  --model split-lr|split-nn|secureboost
                         split logistic regression (default), a split neural network, or
                         gradient-boosted trees with encrypted histograms (SecureBoost)
  --epochs N             training epochs (default: sized from the rows, with early stopping; split-lr and split-nn)
  --batch-size N         mini-batch size (default: sized from the rows; split-lr and split-nn)
  --missing mean|median|zero|error
                         how each party fills empty cells, fitted on its training rows (default error: refused;
                         secureboost bins them as missing unless told)
  --categorical detect|COL,…
                         text columns become categories (one-hot, at most 10 columns each, the last "other"):
                         every text column found, or the ones named
  --feature-columns COL,… only these columns are features (each file keeps the ones it has)
  --exclude-columns COL,… these columns are not features
  --trees N              trees (default 20; secureboost)
  --depth N              maximum tree depth (default 5; secureboost)
  --learning-rate X      learning rate (default 0.02 for split-lr, 0.01 for split-nn, 0.3 for secureboost)
  --rows N               rows per synthetic table (default 10000)
  --seed N               seed for synthetic data and the job (default 42)
  --transport tcp|nats   how the services talk (default tcp)
  --objective binary|regression|multiclass
                         what the label column holds (default binary): a 0/1 label, a continuous
                         target, or class numbers 0..K-1 (split-lr and split-nn; secureboost
                         takes binary or regression)
  --json                 print one JSON summary as the last line`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'guest-data': { type: 'string' },
      'host-data': { type: 'string' },
      'id-column': { type: 'string', default: 'id' },
      'label-column': { type: 'string' },
      model: { type: 'string', default: 'split-lr' },
      epochs: { type: 'string' },
      trees: { type: 'string', default: '20' },
      depth: { type: 'string', default: '5' },
      'batch-size': { type: 'string' },
      missing: { type: 'string', default: 'error' },
      categorical: { type: 'string' },
      'feature-columns': { type: 'string' },
      'exclude-columns': { type: 'string' },
      'learning-rate': { type: 'string' },
      rows: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      transport: { type: 'string', default: 'tcp' },
      json: { type: 'boolean', default: false },
      objective: { type: 'string', default: 'binary' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.model !== 'split-lr' && values.model !== 'split-nn' && values.model !== 'secureboost')
    throw new UsageError(`--model ${values.model} is not available (models: split-lr, split-nn, secureboost)`);
  const objective = values.objective;
  if (objective !== 'binary' && objective !== 'regression' && objective !== 'multiclass')
    throw new UsageError(`--objective must be binary, regression or multiclass, got "${objective}"`);
  if (objective === 'multiclass' && values.model === 'secureboost')
    throw new UsageError(`--objective multiclass is for split-lr and split-nn (secureboost: binary or regression)`);
  const splitNn = values.model === 'split-nn';
  const boost = values.model === 'secureboost';
  const learningRate =
    values['learning-rate'] !== undefined ? Number(values['learning-rate']) : boost ? 0.3 : splitNn ? 0.01 : 0.02;
  if (!(learningRate > 0))
    throw new UsageError(`--learning-rate expects a positive number, got "${values['learning-rate']}"`);
  if (values.transport !== 'tcp' && values.transport !== 'nats')
    throw new UsageError(`--transport must be tcp or nats`);
  if (Boolean(values['guest-data']) !== Boolean(values['host-data']))
    throw new UsageError('--guest-data and --host-data go together');
  if (!['mean', 'median', 'zero', 'error'].includes(values.missing))
    throw new UsageError(`--missing must be mean, median, zero or error, got "${values.missing}"`);
  if (values['feature-columns'] && values['exclude-columns'])
    throw new UsageError('--feature-columns and --exclude-columns: give one of them');
  const epochs = values.epochs === undefined ? undefined : positiveInt(values.epochs, '--epochs');
  const batchSize = values['batch-size'] === undefined ? undefined : positiveInt(values['batch-size'], '--batch-size');
  const seed = positiveInt(values.seed, '--seed', 0);
  const say = values.json ? () => undefined : (line: string) => console.log(line);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-demo-'));
  let guest: string;
  let host: string;
  let labelColumn: string;
  if (values['guest-data']) {
    guest = path.resolve(values['guest-data']);
    host = path.resolve(values['host-data']!);
    for (const f of [guest, host]) if (!fs.existsSync(f)) throw new UsageError(`${f} does not exist`);
    labelColumn = values['label-column'] ?? 'y';
    say(`data: ${guest} (bank, labels in "${labelColumn}") and ${host} (e-commerce)`);
  } else {
    const rows = positiveInt(values.rows, '--rows');
    const synthetic = await writeSyntheticVfl(path.join(workDir, 'data'), {
      seed,
      bankRows: rows,
      ecommerceRows: rows,
    });
    guest = synthetic.bankPath;
    host = synthetic.ecommercePath;
    labelColumn = values['label-column'] ?? BANK_LABEL_COLUMN;
    say(
      `data: synthetic bank and e-commerce tables, ${rows} rows each, ${synthetic.sharedIds} customers in common (seed ${seed})`,
    );
  }

  const guestData = dataOptions(guest, values, [values['id-column'], labelColumn]);
  const hostData = dataOptions(host, values, [values['id-column']]);
  const started = Date.now();
  say(
    `starting coordinator, bank and ecommerce (${values.transport}, audit in ${process.env.DATABASE_URL ? 'PostgreSQL at DATABASE_URL' : 'embedded PostgreSQL'}); logs in ${path.join(workDir, 'logs')}`,
  );
  const federation = await launchFederation({
    workDir,
    transport: values.transport,
    databaseUrl: process.env.DATABASE_URL,
    // A service that dies mid-job is named at once, with the end of its log.
    onUnexpectedExit: (exit) => console.error(`\n${exit.name} DIED: ${exit.message}`),
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: path.dirname(guest) },
      { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(host) },
    ],
  });
  let outcome: JobOutcome;
  try {
    outcome = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      {
        model: values.model,
        ...(objective !== 'binary' ? { objective } : {}),
        parties: [
          {
            partyId: 'bank',
            role: 'label',
            data: {
              path: path.basename(guest),
              idColumn: values['id-column'],
              labelColumn,
              ...guestData,
            },
          },
          {
            partyId: 'ecommerce',
            role: 'feature',
            data: {
              path: path.basename(host),
              idColumn: values['id-column'],
              ...hostData,
            },
          },
        ],
        ...(boost
          ? {
              secureboost: {
                trees: positiveInt(values.trees, '--trees'),
                maxDepth: positiveInt(values.depth, '--depth'),
                learningRate,
                seed,
                validationFraction: 0.3,
              },
            }
          : {}),
        ...(splitNn
          ? {
              // Bottoms of 32 relu -> 4 per party, an interactive layer of 8 relu, the output unit on top.
              nn: {
                architecture: {
                  bottom: [
                    { units: 32, activation: 'relu' },
                    { units: 4, activation: 'linear' },
                  ],
                  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
                  top: [],
                  training: {
                    optimizer: 'adam',
                    learningRate,
                    // The network's schedule is part of its architecture: sized here from the guest file's rows.
                    ...nnSchedule(
                      [
                        { path: guest, data: guestData, labelColumn },
                        { path: host, data: hostData },
                      ],
                      values['id-column'],
                      epochs,
                      batchSize,
                    ),
                    seed,
                    validationFraction: DEFAULT_VALIDATION_FRACTION,
                  },
                },
                defence: { kind: 'none' },
              },
            }
          : {
              // Batch size and epochs left out are sized from the rows by the coordinator (with early stopping).
              hyperparameters: { epochs, batchSize, learningRate, seed },
            }),
      },
      say,
    );
  } finally {
    await federation.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const job = outcome.job;
  if (
    job.state !== 'succeeded' ||
    !job.result ||
    !(
      isSplitLrResult(job.result) ||
      isSplitNnResult(job.result) ||
      isSecureBoostResult(job.result) ||
      isTargetResult(job.result)
    )
  ) {
    const where = job.failedParty ? ` (on ${job.failedParty})` : '';
    console.error(`job ${job.id} ${job.state}${where}: ${job.error}`);
    const log = job.failedParty ?? 'coordinator';
    console.error(`--- last lines of ${log}.log ---\n${tail(path.join(federation.logDir, `${log}.log`))}`);
    if (values.json)
      console.log(
        JSON.stringify({
          jobId: job.id,
          state: job.state,
          error: job.error,
          failedParty: job.failedParty,
          audit: outcome.audit,
        }),
      );
    return 1;
  }
  if (isTargetResult(job.result)) {
    const summary = objectiveSummary(job.id, job.result, (Date.now() - started) / 1000, outcome.audit);
    printObjectiveSummary(summary, job.result, say);
    if (values.json) console.log(JSON.stringify(summary));
    return 0;
  }
  const r = job.result;
  const summary = {
    jobId: job.id,
    intersection: r.intersection,
    model: job.model,
    objective: 'binary',
    // `auc` is the training AUC (kept for scripts that read it); trainAuc says so.
    auc: round(r.train.auc),
    trainAuc: round(r.train.auc),
    ks: round(r.train.ks),
    validationAuc: round(r.validation.auc),
    labelOnlyAuc: round(r.labelOnly.train.auc),
    labelOnlyValidationAuc: round(r.labelOnly.validation.auc),
    epochs: r.epochs.length,
    seconds: round(seconds, 1),
    trainingSeconds: round(r.seconds, 1),
    backend: isSecureBoostResult(r) ? `${r.he} (node-seal)` : r.backend,
    // Bytes per training round: an epoch, or a tree.
    bytesPerEpoch: isSecureBoostResult(r) ? r.bytesPerTree : r.bytesPerEpoch,
    audit: outcome.audit,
    ...(r.labelOnly.uplift ? { validationUplift: r.labelOnly.uplift } : {}),
  };
  say('');
  say(`job ${job.id} succeeded in ${summary.seconds} s`);
  say(`  customers in common (PSI)   ${r.intersection} (train ${r.trainRows}, validation ${r.validationRows})`);
  say(
    `  federated model             AUC ${fixed(summary.auc)}  KS ${fixed(summary.ks)}  validation AUC ${fixed(summary.validationAuc)}`,
  );
  say(
    `  bank's features only        AUC ${fixed(summary.labelOnlyAuc)}  validation AUC ${fixed(summary.labelOnlyValidationAuc)}`,
  );
  const uplift = r.labelOnly.uplift;
  say(
    uplift
      ? `  uplift from federation      ${signed(uplift.difference)} validation AUC (95% interval ${signed(uplift.low)} to ${signed(uplift.high)}, DeLong)`
      : `  uplift from federation      ${signed(summary.validationAuc - summary.labelOnlyValidationAuc)} validation AUC`,
  );
  for (const warning of upliftWarnings(r.validation, uplift)) say(`  warning: ${warning}`);
  say(
    `  top-decile lift, validation ${r.validation.gainLift[0].lift.toFixed(2)}  (captures ${(100 * r.validation.gainLift[0].gain).toFixed(1)}% of defaults)`,
  );
  say(
    `  score stability (PSI)       ${r.validation.scoreStability?.toFixed(4)} between training and validation scores`,
  );
  say(
    `  traffic per ${isSecureBoostResult(r) ? 'tree ' : 'epoch'}          ${(summary.bytesPerEpoch / 1e6).toFixed(1)} MB`,
  );
  say(`  ${isSecureBoostResult(r) ? 'encryption ' : 'local math '}                ${summary.backend}`);
  say(
    `  audit trail                 ${outcome.audit.records} records, ${outcome.audit.signedHeads} signed chain heads, ${outcome.audit.valid ? 'valid' : 'BROKEN'}`,
  );
  if (values.json) console.log(JSON.stringify(summary));
  return 0;
}

class UsageError extends Error {}

/** A party's preprocessing from the demo's options, for the columns its own file has (read here, locally). */
function dataOptions(
  file: string,
  values: { missing: string; categorical?: string; 'feature-columns'?: string; 'exclude-columns'?: string },
  reserved: string[],
): Record<string, unknown> {
  const header = readCsvRecords(fs.readFileSync(file), file, 1)[0]?.record.map((c) => c.trim()) ?? [];
  const has = (list?: string) =>
    (list ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => header.includes(c));
  const features = has(values['feature-columns']).filter((c) => !reserved.includes(c));
  const excluded = has(values['exclude-columns']);
  const categorical = values.categorical === 'detect' ? [] : has(values.categorical);
  return {
    ...(values['feature-columns'] && features.length ? { featureColumns: features } : {}),
    ...(excluded.length ? { excludeColumns: excluded } : {}),
    ...(values.missing !== 'error' ? { missing: values.missing } : {}),
    ...(values.categorical === 'detect' ? { detectCategorical: true } : {}),
    ...(categorical.length
      ? { columns: Object.fromEntries(categorical.map((c) => [c, { encoding: 'one-hot' }])) }
      : {}),
  };
}

/**
 * Split NN: batch size and epochs as given, else sized from the guest file's rows (as the coordinator
 * sizes split LR), batches at least twice the widest party's model inputs after its encodings.
 */
function nnSchedule(
  files: { path: string; data: Record<string, unknown>; labelColumn?: string }[],
  idColumn: string,
  epochs?: number,
  batchSize?: number,
): { epochs: number; batchSize: number } {
  const tables = files.map((f) => {
    const bytes = fs.readFileSync(f.path);
    try {
      const spec = preprocessingSpec.parse(f.data);
      const table = parsePartyTable(bytes, f.path, {
        ...loadOptionsOf(spec, false),
        idColumn,
        ...(f.labelColumn ? { labelColumn: f.labelColumn } : {}),
        allowMissing: true,
      });
      return { rows: table.ids.length, width: plannedColumns(table, spec).length + (f.labelColumn ? 1 : 0) };
    } catch {
      // The job's data check names what is wrong with the file; size from its shape meanwhile.
      const records = readCsvRecords(bytes, f.path);
      return { rows: records.length - 1, width: records[0]?.record.length ?? 1 };
    }
  });
  const widest = Math.max(...tables.map((t) => t.width));
  const fit = scheduleForRows(tables[0].rows, DEFAULT_VALIDATION_FRACTION, minimumBatchRows(widest));
  return { epochs: epochs ?? fit.epochs, batchSize: batchSize ?? fit.batchSize };
}

function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} expects an integer >= ${min}, got "${value}"`);
  return n;
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

function fixed(x: number): string {
  return x.toFixed(4);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

/** An error and its causes (fetch failures carry the socket error as `cause`). */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message}: ${describeError(e.cause)}` : e.message;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof UsageError ? `${e.message}\n\n${HELP}` : `demo failed: ${describeError(e)}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
