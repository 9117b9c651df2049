/**
 * `binning [--data default-credit|breast|synthetic] [--rows N --features-label A --features-host B]
 * [--bins N] [--method quantile|equal-width|chimerge] [--threads N]`: federated WOE binning (real
 * BFV, every party and the coordinator in one process) of every feature of both parties, checked
 * against the same binning on the pooled data (max relative error of WOE and IV), and, on the
 * shared data, the validation AUC (70/30 split, seed 42) of the split-LR plaintext reference on
 * WOE-encoded features (WOE fitted on the training rows, IV ≥ 0.02), on the raw features, and on
 * the label party's raw features alone. `seconds` is the binning protocol after alignment (keys,
 * encrypted labels, masked sums, decryption, tables); PSI is reported apart.
 * Synthetic (FATE's shape): --data synthetic --rows 100000 --features-label 30 --features-host 300.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPartyTable, PartyTable, selectRows, writeWideSynthetic } from '@vfl/data';
import {
  DEFAULT_LR_HYPERPARAMETERS,
  partialLogits,
  rocAuc,
  Standardizer,
  trainPlainSplitLr,
  trainValidationSplit,
  withIntercept,
  woeEncodeColumn,
} from '@vfl/ml';
import {
  BinningPartyModel,
  binningSettings,
  BinningSettings,
  ColumnBinning,
  isBinningResult,
  pooledWoeReference,
  runInProcessJob,
} from '@vfl/protocol';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { peakRssMb, printTable, round, type Row } from './report';

export async function runBinningBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    data: { type: 'string', default: 'default-credit' },
    rows: { type: 'string', default: '100000' },
    'features-label': { type: 'string', default: '30' },
    'features-host': { type: 'string', default: '300' },
    bins: { type: 'string', default: '10' },
    method: { type: 'string', default: 'quantile' },
    threads: { type: 'string' },
  });
  const threads = values.threads === undefined ? os.availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0)
    throw new Error(`--threads must be a whole number, got ${values.threads}`);
  const data = resolveBenchData(values.data);
  let dataRoot: string;
  let guest: string;
  let host: string;
  if (data.kind === 'shared') {
    ({ dataRoot, guest, host } = data);
  } else {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-bin-'));
    await writeWideSynthetic(dataRoot, {
      rows: Number(values.rows),
      labelColumns: Number(values['features-label']),
      hostColumns: Number(values['features-host']),
    });
    guest = 'wide_guest.csv';
    host = 'wide_host.csv';
  }
  const settings = binningSettings.parse({ method: values.method, maxBins: Number(values.bins) });
  const started = Date.now();
  // CPU time of the binning protocol (every party, the coordinator and their worker threads): on this
  // shared machine wall time mostly measures the other processes' load; CPU time much less so.
  let cpuAtBinning: NodeJS.CpuUsage | undefined;
  const { result, federation } = await runInProcessJob({
    progress: (p) => {
      if (p.phase === 'training' && !cpuAtBinning) cpuAtBinning = process.cpuUsage();
    },
    dataRoot,
    model: 'binning',
    settings: { binning: settings },
    hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
    record: false,
    ckksThreads: threads,
    label: { partyId: 'bank', file: guest, labelColumn: 'y' },
    features: [{ partyId: 'ecommerce', file: host }],
  });
  const totalSeconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtBinning);
  if (!isBinningResult(result)) throw new Error('not a binning result');
  const tablesOf = (party: string) =>
    (federation.saved.get(`${result.manifest.jobId}:${party}`) as BinningPartyModel).binning;

  const g = await loadPartyTable(path.join(dataRoot, guest), { labelColumn: 'y' });
  const h = selectRows(await loadPartyTable(path.join(dataRoot, host)), g.ids);
  const labels = g.labels!;
  let maxWoe = 0;
  let maxIv = 0;
  for (const [party, table] of [
    ['bank', g],
    ['ecommerce', h],
  ] as const) {
    const reference = pooledWoeReference(table, labels, settings);
    tablesOf(party).forEach((c, j) => {
      c.table.bins.forEach((b, i) => (maxWoe = Math.max(maxWoe, relativeError(b.woe, reference[j].table.bins[i].woe))));
      maxIv = Math.max(maxIv, relativeError(c.table.iv, reference[j].table.iv));
    });
  }
  const features = g.featureNames.length + h.featureNames.length;
  const aucs = data.kind === 'shared' ? validationAucs(g, h, labels, settings) : null;

  const out = {
    data: values.data,
    rows: g.ids.length,
    columns: [g.featureNames.length, h.featureNames.length],
    method: settings.method,
    bins: settings.maxBins,
    seconds: round(result.seconds, 2),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
    features,
    maxWoeRelError: maxWoe,
    maxIvRelError: maxIv,
    woeLrValidationAuc: aucs ? round(aucs.woe, 4) : null,
    rawLrValidationAuc: aucs ? round(aucs.raw, 4) : null,
    labelOnlyValidationAuc: aucs ? round(aucs.labelOnly, 4) : null,
    woeLrColumns: aucs ? aucs.kept : null,
    decryptions: result.decryptions,
    totalSecondsWithPsi: round(totalSeconds, 1),
    peakRssMb: peakRssMb(),
    he: result.he,
    threads,
  };
  const rows: Row[] = [
    [`seconds, binning all ${features} features (after PSI)`, String(out.seconds)],
    ['CPU seconds of the binning, all threads', String(out.cpuSeconds)],
    ['seconds, whole job with PSI', String(out.totalSecondsWithPsi)],
    ['max relative error of WOE vs pooled plaintext', out.maxWoeRelError.toExponential(2)],
    ['max relative error of IV vs pooled plaintext', out.maxIvRelError.toExponential(2)],
    ...(aucs
      ? ([
          [`validation AUC, LR on WOE (IV ≥ 0.02: ${aucs.kept} columns)`, String(out.woeLrValidationAuc)],
          ['validation AUC, LR on raw features', String(out.rawLrValidationAuc)],
          ['validation AUC, LR on the label party alone', String(out.labelOnlyValidationAuc)],
        ] as Row[])
      : []),
    ['decryptions', String(out.decryptions)],
    ['peak RSS', `${out.peakRssMb} MB`],
  ];
  printTable(
    `WOE binning, ${values.data} (${out.rows} rows, ${out.columns.join(' + ')} columns), ${settings.method}, ${settings.maxBins} bins`,
    rows,
  );
  return out;
}

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
}

/**
 * Validation AUCs of split LR's plaintext reference (same optimiser and Taylor residual as the
 * protocol) on one 70/30 split: WOE-encoded columns with IV ≥ 0.02 (WOE fitted on the training
 * rows), raw columns, and the label party's raw columns alone.
 */
function validationAucs(
  g: PartyTable,
  h: PartyTable,
  labels: Uint8Array,
  settings: BinningSettings,
): { woe: number; raw: number; labelOnly: number; kept: number } {
  const rows = labels.length;
  const split = trainValidationSplit(rows, 0.3, 42);
  const hp = { ...DEFAULT_LR_HYPERPARAMETERS, validationFraction: 0.3, epochs: 20 };
  const trainTable = (t: PartyTable) => ({ ...t, ...selectTrain(t, split.train) });
  const trainLabels = Uint8Array.from(split.train, (r) => labels[r]);
  const woeColumns: Float64Array[] = [];
  for (const t of [g, h]) {
    const fitted: ColumnBinning[] = pooledWoeReference(trainTable(t), trainLabels, settings);
    const width = t.featureNames.length;
    fitted.forEach((c, j) => {
      if (c.table.iv < 0.02) return;
      const column = Float64Array.from({ length: rows }, (_, r) => t.features[r * width + j]);
      woeColumns.push(
        woeEncodeColumn(
          column,
          c.thresholds,
          c.table.bins.map((b) => b.woe),
        ),
      );
    });
  }
  const fromColumns = (columns: Float64Array[]) => {
    const m = new Float64Array(rows * columns.length);
    columns.forEach((c, j) => c.forEach((v, r) => (m[r * columns.length + j] = v)));
    return m;
  };
  const auc = (matrix: Float64Array, width: number) => {
    const s = Standardizer.fit(matrix, width, split.train);
    const x = withIntercept(s.transform(matrix, width, 3), width);
    const { weights } = trainPlainSplitLr(x, width + 1, labels, hp, { interceptIndex: width, split });
    const logits = partialLogits(x, width + 1, weights, split.validation);
    return rocAuc(
      logits,
      Array.from(split.validation, (r) => labels[r]),
    );
  };
  const raw = fromColumns([...columnsOf(g), ...columnsOf(h)]);
  return {
    woe: auc(fromColumns(woeColumns), woeColumns.length),
    raw: auc(raw, g.featureNames.length + h.featureNames.length),
    labelOnly: auc(g.features, g.featureNames.length),
    kept: woeColumns.length,
  };
}

function columnsOf(t: PartyTable): Float64Array[] {
  const width = t.featureNames.length;
  const rows = t.features.length / width;
  return t.featureNames.map((_, j) => Float64Array.from({ length: rows }, (_, r) => t.features[r * width + j]));
}

function selectTrain(t: PartyTable, train: Int32Array): Pick<PartyTable, 'features' | 'featureNames'> {
  const width = t.featureNames.length;
  const features = new Float64Array(train.length * width);
  train.forEach((r, k) => features.set(t.features.subarray(r * width, (r + 1) * width), k * width));
  return { features, featureNames: t.featureNames };
}
