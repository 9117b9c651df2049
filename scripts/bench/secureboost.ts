/**
 * `secureboost [--data default-credit|breast|synthetic] [--rows N --features-label A --features-host B]
 * [--trees N] [--depth N] [--bins N] [--threads N] [--paillier-rows N] [--sklearn]`: federated SecureBoost (real BFV, every party and
 * the coordinator in one process) beside the same GBDT in plaintext on the pooled data (the
 * lossless check), and, with --sklearn, scikit-learn's HistGradientBoostingClassifier on the same
 * split (Debian's python3-sklearn; the reference figure only, never in a test). --threads: each
 * party's BFV worker threads (default one per core; 0: inline). --paillier-rows N: the same tree
 * under Paillier, FATE's way, timed on N rows and scaled (0: skip).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPartyTable, selectRows, writeWideSynthetic } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, rocAuc } from '@vfl/ml';
import {
  gradientPacking,
  isSecureBoostResult,
  PaillierKeyHolder,
  paillierBinSums,
  paillierEncryptRows,
  pooledSecureBoostReference,
  PooledReference,
  runInProcessJob,
  secureBoostSettings,
} from '@vfl/protocol';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { peakRssMb, printTable, round, type Row } from './report';

export async function runSecureBoostBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    data: { type: 'string', default: 'default-credit' },
    rows: { type: 'string', default: '100000' },
    'features-label': { type: 'string', default: '30' },
    'features-host': { type: 'string', default: '300' },
    trees: { type: 'string', default: '5' },
    depth: { type: 'string', default: '5' },
    bins: { type: 'string', default: '32' },
    sklearn: { type: 'boolean', default: false },
    threads: { type: 'string' },
    'paillier-rows': { type: 'string', default: '0' },
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
    // FATE's performance shape: --rows 100000 --features-label 30 --features-host 300
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-sb-'));
    await writeWideSynthetic(dataRoot, {
      rows: Number(values.rows),
      labelColumns: Number(values['features-label']),
      hostColumns: Number(values['features-host']),
    });
    guest = 'wide_guest.csv';
    host = 'wide_host.csv';
  }
  const settings = secureBoostSettings.parse({
    trees: Number(values.trees),
    maxDepth: Number(values.depth),
    maxBins: Number(values.bins),
    validationFraction: 0.3,
  });
  const started = Date.now();
  const { result } = await runInProcessJob({
    dataRoot,
    model: 'secureboost',
    secureboost: settings,
    hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
    record: false,
    ckksThreads: threads,
    label: { partyId: 'bank', file: guest, labelColumn: 'y' },
    features: [{ partyId: 'ecommerce', file: host }],
  });
  const totalSeconds = (Date.now() - started) / 1000;
  if (!isSecureBoostResult(result)) throw new Error('not a secureboost result');
  const treeSeconds = result.epochs.reduce((s, e) => s + e.seconds, 0) / result.epochs.length;

  // The same GBDT on the pooled data, rows in the federation's order.
  const tables = [
    await loadPartyTable(path.join(dataRoot, guest), { labelColumn: 'y' }),
    await loadPartyTable(path.join(dataRoot, host)),
  ];
  const referenceStart = Date.now();
  const built: { rows: number; nodes: number } = { rows: 0, nodes: 0 };
  const reference = await pooledSecureBoostReference(tables, settings, (_, rows) => {
    built.rows += rows;
    built.nodes++;
  });
  const { ids, split, labels } = reference;
  const referenceTreeSeconds = (Date.now() - referenceStart) / 1000 / reference.trees.length;
  const yValidation = Array.from(split.validation, (r) => labels[r]);
  const plaintextAuc = rocAuc(reference.validation, yValidation);
  const matrices = tables.map((t) => ({ m: selectRows(t, ids).features, w: t.featureNames.length }));
  const sklearnAuc = values.sklearn ? sklearnReference(matrices, labels, split, settings) : null;
  const paillierRows = Number(values['paillier-rows']);
  const paillier =
    paillierRows > 0
      ? await paillierTree(reference.blocks[1], split.train, settings.maxBins, paillierRows, {
          rows: built.rows / reference.trees.length,
          nodes: built.nodes / reference.trees.length,
        })
      : null;

  const out = {
    data: values.data,
    rows: ids.length,
    columns: matrices.map((m) => m.w),
    trees: result.epochs.length,
    depth: settings.maxDepth,
    bins: settings.maxBins,
    treeSeconds: round(treeSeconds, 2),
    auc: round(result.train.auc, 4),
    validationAuc: round(result.validation.auc, 4),
    plaintextAuc: round(plaintextAuc, 4),
    deltaAuc: round(Math.abs(result.validation.auc - plaintextAuc), 6),
    labelOnlyValidationAuc: round(result.labelOnly.validation.auc, 4),
    sklearnValidationAuc: sklearnAuc === null ? null : round(sklearnAuc, 4),
    bytesPerTree: result.bytesPerTree,
    bytesPerTreeByLink: result.bytesPerTreeByLink,
    decryptionsPerTree: Math.round(result.decryptions / result.epochs.length),
    plaintextTreeSeconds: round(referenceTreeSeconds, 3),
    totalSeconds: round(totalSeconds, 1),
    peakRssMb: peakRssMb(),
    he: result.he,
    threads,
    paillierTreeSeconds: paillier ? round(paillier.treeSeconds, 1) : null,
    paillierMeasuredRows: paillier ? paillier.measuredRows : null,
    bfvSpeedup: paillier ? round(paillier.treeSeconds / treeSeconds, 1) : null,
  };
  const rows: Row[] = [
    ['seconds per tree, federated (BFV)', String(out.treeSeconds)],
    ['seconds per tree, same GBDT in plaintext', String(out.plaintextTreeSeconds)],
    ['validation AUC, federated', String(out.validationAuc)],
    ['validation AUC, same GBDT in plaintext (pooled)', String(out.plaintextAuc)],
    ['validation AUC, label party alone', String(out.labelOnlyValidationAuc)],
    ...(sklearnAuc === null
      ? []
      : [['validation AUC, scikit-learn HistGradientBoosting', String(out.sklearnValidationAuc)] as Row]),
    ['training AUC, federated', String(out.auc)],
    ['bytes per tree (all links)', `${(out.bytesPerTree / 1e6).toFixed(1)} MB`],
    ...Object.entries(out.bytesPerTreeByLink).map(([link, bytes]): Row => [
      `  ${link} (last tree)`,
      `${(bytes / 1e6).toFixed(1)} MB`,
    ]),
    ['decryptions per tree', String(out.decryptionsPerTree)],
    ...(paillier
      ? [
          [
            `seconds per tree, Paillier 2048 (FATE's way; ${paillier.measuredRows} rows timed, scaled)`,
            String(out.paillierTreeSeconds),
          ] as Row,
          ['BFV speed-up over Paillier', `${out.bfvSpeedup}x`] as Row,
        ]
      : []),
    ['peak RSS', `${out.peakRssMb} MB`],
  ];
  printTable(
    `SecureBoost, ${values.data} (${out.rows} rows, ${out.columns.join(' + ')} columns), ${out.trees} trees, depth ${out.depth}, ${out.bins} bins`,
    rows,
  );
  return out;
}

/**
 * One tree under Paillier, FATE's way (secureboost/paillier-histogram.ts): the root's histograms
 * timed on `sample` rows of the feature party's columns (row encryptions, additions per row and
 * feature, a masked decryption per bin), scaled by the plaintext run's counts of built rows and
 * nodes per tree. One thread, as the BFV figure's parties share two cores.
 */
async function paillierTree(
  block: PooledReference['blocks'][number],
  train: Int32Array,
  maxBins: number,
  sample: number,
  perTree: { rows: number; nodes: number },
): Promise<{ treeSeconds: number; measuredRows: number }> {
  const keys = await PaillierKeyHolder.generate(2048);
  const rows = train.slice(0, Math.min(sample, train.length));
  const packing = gradientPacking(58, train.length, 1, 0.25);
  const width = block.binned.length;
  const g = Float64Array.from({ length: block.binned[0].length }, (_, r) => ((r * 7919) % 2001) - 1000);
  const h = Float64Array.from(g, (v) => Math.floor(Math.abs(v) / 4));
  let t = performance.now();
  const ciphertexts = paillierEncryptRows(keys.publicKey, rows, g, h, packing);
  const encryptSeconds = (performance.now() - t) / 1000 / rows.length;
  t = performance.now();
  const { sums } = paillierBinSums(keys.publicKey, ciphertexts, rows, block.binned, maxBins + 1);
  const sumSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  keys.decrypt(sums);
  const perBin = (performance.now() - t) / 1000 / sums.length + encryptSeconds;
  const addSeconds = Math.max(0, sumSeconds - sums.length * encryptSeconds) / (rows.length * width);
  const treeSeconds =
    perTree.rows * encryptSeconds + perTree.rows * width * addSeconds + perTree.nodes * width * (maxBins + 1) * perBin;
  return { treeSeconds, measuredRows: rows.length };
}

/** scikit-learn's HistGradientBoostingClassifier on the same rows and split (no early stopping, same depth and bins). */
function sklearnReference(
  matrices: { m: Float64Array; w: number }[],
  labels: Float64Array,
  split: { train: Int32Array; validation: Int32Array },
  settings: { trees: number; maxDepth: number; maxBins: number; learningRate: number; lambda: number },
): number | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-sklearn-'));
  try {
    const width = matrices.reduce((s, m) => s + m.w, 0);
    const lines = Array.from(labels, (y, r) =>
      [y, ...matrices.flatMap(({ m, w }) => Array.from(m.subarray(r * w, (r + 1) * w)))].join(','),
    );
    fs.writeFileSync(path.join(dir, 'data.csv'), lines.join('\n'));
    fs.writeFileSync(path.join(dir, 'train.txt'), Array.from(split.train).join('\n'));
    fs.writeFileSync(path.join(dir, 'validation.txt'), Array.from(split.validation).join('\n'));
    const script = `
import numpy as np, sys
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
d = np.loadtxt(sys.argv[1] + '/data.csv', delimiter=',')
tr = np.loadtxt(sys.argv[1] + '/train.txt', dtype=int); va = np.loadtxt(sys.argv[1] + '/validation.txt', dtype=int)
X, y = d[:, 1:${width + 1}], d[:, 0]
m = HistGradientBoostingClassifier(max_iter=${settings.trees}, max_depth=${settings.maxDepth}, max_bins=${Math.min(255, settings.maxBins)},
  learning_rate=${settings.learningRate}, l2_regularization=${settings.lambda}, early_stopping=False, random_state=0)
m.fit(X[tr], y[tr])
print(roc_auc_score(y[va], m.predict_proba(X[va])[:, 1]))
`;
    // Debian's interpreter, where python3-sklearn installs (a pyenv python3 on PATH lacks it).
    const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const out = execFileSync(python, ['-c', script, dir], { encoding: 'utf8' });
    return Number(out.trim().split('\n').at(-1));
  } catch (e) {
    console.error(`scikit-learn reference skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
