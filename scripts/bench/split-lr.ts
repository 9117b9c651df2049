/**
 * `split-lr [--data default-credit|breast|synthetic] [--rows N --features-label A --features-host B]
 * [--epochs N] [--batch-size N] [--sigmoid taylor|cubic] [--he ckks|paillier] [--paillier-rows N]
 * [--ckks-threads N]`: federated split LR (real CKKS, every party and the coordinator in one
 * process) beside the same algorithm in plaintext, and the same protocol under Paillier: timed on
 * N rows and scaled to an epoch (0: skip), or run whole with --he paillier.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticVfl, writeWideSynthetic, BANK_LABEL_COLUMN } from '@vfl/data';
import { batchCount, epochBatches, DEFAULT_LR_HYPERPARAMETERS, partialLogits, rocAuc, initTensorflow } from '@vfl/ml';
import {
  runTwoPartyJob,
  plaintextReference,
  pooledParties,
  PooledParties,
  PaillierKeyHolder,
  PaillierLrParty,
} from '@vfl/protocol';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { nodeFlags, printTable, round, type Row } from './report';

export async function runSplitLrBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    data: { type: 'string', default: 'default-credit' },
    rows: { type: 'string', default: '30000' },
    'features-label': { type: 'string' },
    'features-host': { type: 'string' },
    epochs: { type: 'string', default: '3' },
    'batch-size': { type: 'string' },
    he: { type: 'string', default: 'ckks' },
    sigmoid: { type: 'string', default: 'taylor' },
    'paillier-rows': { type: 'string', default: '128' },
    'ckks-threads': { type: 'string' },
  });
  if (values.he !== 'ckks' && values.he !== 'paillier')
    throw new Error(`--he must be ckks or paillier, got ${values.he}`);
  const epochs = Number(values.epochs);
  let dataRoot: string;
  let guest: string;
  let host: string;
  let labelColumn = 'y';
  const data = resolveBenchData(values.data);
  if (data.kind === 'shared') {
    ({ dataRoot, guest, host } = data);
  } else {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-'));
    if (values['features-label'] || values['features-host']) {
      // FATE's performance shape: --rows 100000 --features-label 30 --features-host 300
      await writeWideSynthetic(dataRoot, {
        rows: Number(values.rows),
        labelColumns: Number(values['features-label'] ?? 30),
        hostColumns: Number(values['features-host'] ?? 300),
      });
      guest = 'wide_guest.csv';
      host = 'wide_host.csv';
    } else {
      await writeSyntheticVfl(dataRoot, {
        bankRows: Number(values.rows),
        ecommerceRows: Number(values.rows),
        overlap: 1,
      });
      guest = 'bank.csv';
      host = 'ecommerce.csv';
      labelColumn = BANK_LABEL_COLUMN;
    }
  }
  if (values.sigmoid !== 'taylor' && values.sigmoid !== 'cubic')
    throw new Error(`--sigmoid must be taylor or cubic, got ${values.sigmoid}`);
  const ckksThreads = values['ckks-threads'] === undefined ? os.availableParallelism() : Number(values['ckks-threads']);
  if (!Number.isInteger(ckksThreads) || ckksThreads < 0)
    throw new Error(`--ckks-threads must be a whole number, got ${values['ckks-threads']}`);
  const hp = {
    ...DEFAULT_LR_HYPERPARAMETERS,
    epochs,
    sigmoid: values.sigmoid,
    ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}),
  } as typeof DEFAULT_LR_HYPERPARAMETERS;
  const pooled = await pooledParties(path.join(dataRoot, guest), path.join(dataRoot, host), hp, labelColumn);
  const reference = await plaintextReference(path.join(dataRoot, guest), path.join(dataRoot, host), hp, labelColumn);
  const tf = await initTensorflow();

  let ckks: {
    epochSeconds: number;
    auc: number;
    labelOnlyAuc: number;
    bytesPerEpoch: number;
    byLink: Record<string, number>;
    rows: number;
    totalSeconds: number;
  } | null = null;
  if (values.he === 'ckks') {
    const t0 = Date.now();
    const { result } = await runTwoPartyJob({
      dataRoot,
      guest,
      host,
      labelColumn,
      hyperparameters: hp,
      record: false,
      ckksThreads,
    });
    ckks = {
      epochSeconds: result.epochs.reduce((s, e) => s + e.seconds, 0) / result.epochs.length,
      auc: result.train.auc,
      labelOnlyAuc: result.labelOnly.train.auc,
      bytesPerEpoch: result.bytesPerEpoch,
      byLink: result.bytesPerEpochByLink,
      rows: result.intersection,
      totalSeconds: (Date.now() - t0) / 1000,
    };
  }
  // Paillier: the whole run with --he paillier; otherwise the first batch's first rows, scaled to an epoch.
  const sample = values.he === 'paillier' ? Infinity : Number(values['paillier-rows']);
  const paillier = sample > 0 ? await paillierEpoch(pooled, hp, sample, values.he === 'paillier' ? epochs : 1) : null;

  const out = {
    data: values.data,
    rows: pooled.labels.length,
    columns: pooled.blocks.map((b) => b.columns),
    epochs,
    epochSeconds: round(ckks ? ckks.epochSeconds : paillier!.epochSeconds, 2),
    auc: round(ckks ? ckks.auc : paillier!.auc!, 4),
    plaintextAuc: round(reference.trainAuc, 4),
    bytesPerEpoch: ckks ? ckks.bytesPerEpoch : paillier!.bytesPerEpoch,
    bytesPerEpochByLink: ckks ? ckks.byLink : null,
    he: values.he,
    sigmoid: hp.sigmoid,
    paillierEpochSeconds: paillier ? round(paillier.epochSeconds, 1) : null,
    paillierMeasuredRows: paillier ? paillier.measuredRows : null,
    paillierBytesPerEpoch: paillier ? paillier.bytesPerEpoch : null,
    ckksSpeedup: ckks && paillier ? round(paillier.epochSeconds / ckks.epochSeconds, 0) : null,
    backend: tf.description,
    ckksThreads,
    nodeFlags: nodeFlags(),
  };
  const rows: Row[] = [];
  if (ckks) {
    rows.push(
      ['seconds per epoch, CKKS (incl. validation)', String(out.epochSeconds)],
      ['training AUC, federated', String(out.auc)],
      ['training AUC, same algorithm in plaintext', String(out.plaintextAuc)],
      ['training AUC, label party alone', String(round(ckks.labelOnlyAuc, 4))],
      ['bytes per epoch, CKKS (all links)', `${(ckks.bytesPerEpoch / 1e6).toFixed(1)} MB`],
      ...Object.entries(ckks.byLink).map(([link, bytes]): Row => [`  ${link}`, `${(bytes / 1e6).toFixed(1)} MB`]),
    );
  }
  if (paillier) {
    rows.push(
      [
        `seconds per epoch, Paillier 2048${paillier.measuredRows < pooled.split.train.length ? ` (timed on ${paillier.measuredRows} rows, scaled)` : ''}`,
        String(out.paillierEpochSeconds),
      ],
      ['bytes per epoch, Paillier (all links)', `${(paillier.bytesPerEpoch / 1e6).toFixed(1)} MB`],
    );
    if (paillier.auc !== null) rows.push(['training AUC, federated under Paillier', String(round(paillier.auc, 4))]);
    if (out.ckksSpeedup) rows.push(['CKKS speed-up over Paillier', `${out.ckksSpeedup}x`]);
  }
  rows.push(
    [
      'HE',
      values.he === 'ckks'
        ? 'CKKS N=8192 (node-seal 6.0.3), Paillier 2048 (paillier-bigint 3.4.3)'
        : 'Paillier 2048 (paillier-bigint 3.4.3)',
    ],
    ['local math', out.backend],
  );
  rows.push(['node flags', out.nodeFlags || '(none)']);
  rows.push([
    'CKKS work',
    ckksThreads > 0
      ? `${ckksThreads} worker threads per party and for the coordinator's decryptions`
      : 'on the main thread',
  ]);
  if (ckks) rows.push(['total seconds (incl. PSI, keys)', String(round(ckks.totalSeconds, 1))]);
  printTable(
    `Split LR, ${values.data} (${out.rows} rows, ${out.columns.join(' + ')} columns), ${epochs} epochs, every party and the coordinator in one process`,
    rows,
  );
  return out;
}

/**
 * Split LR under Paillier over the pooled parties (label party + one feature party): `epochs`
 * full epochs, or, with a finite `sampleRows`, the first batch cut to that many rows, timed and
 * scaled to an epoch (rows for the per-row work, batches for the per-column decryptions).
 */
async function paillierEpoch(
  pooled: PooledParties,
  hp: typeof DEFAULT_LR_HYPERPARAMETERS,
  sampleRows: number,
  epochs: number,
): Promise<{ epochSeconds: number; measuredRows: number; bytesPerEpoch: number; auc: number | null }> {
  const keys = await PaillierKeyHolder.generate(2048);
  const [labelBlock, ...featureBlocks] = pooled.blocks;
  const bank = new PaillierLrParty(
    keys.publicKey,
    labelBlock.matrix,
    labelBlock.columns,
    hp,
    labelBlock.columns - 1,
    pooled.labels,
  );
  const features = featureBlocks.map((b) => new PaillierLrParty(keys.publicKey, b.matrix, b.columns, hp));
  const ciphertextBytes = (2 * 2048) / 8;
  const columns = pooled.blocks.reduce((s, b) => s + b.columns, 0);
  const trainRows = pooled.split.train.length;
  const batches = batchCount(trainRows, hp.batchSize);
  // Per epoch: forward and residual (one ciphertext per row and feature party), a masked gradient and its release per column and batch.
  const bytesPerEpoch = (2 * featureBlocks.length * trainRows + 2 * columns * batches) * ciphertextBytes;
  let rowSeconds = 0;
  let decryptSeconds = 0;
  let measuredRows = 0;
  let measuredBatches = 0;
  for (let epoch = 0; epoch < (Number.isFinite(sampleRows) ? 1 : epochs); epoch++) {
    for (const full of epochBatches(pooled.split.train, hp.batchSize, hp.seed, epoch)) {
      const batch = Number.isFinite(sampleRows) ? full.subarray(0, Math.min(sampleRows, full.length)) : full;
      const t0 = performance.now();
      const residual = bank.residual(
        batch,
        features.map((f) => f.forward(batch)),
      );
      const gradients = [bank, ...features].map((p) => p.maskedGradient(batch, residual));
      const t1 = performance.now();
      const released = gradients.map((g) => keys.decrypt(g));
      [bank, ...features].forEach((p, k) => p.applyUpdate(released[k], batch.length));
      decryptSeconds += (performance.now() - t1) / 1000;
      rowSeconds += (t1 - t0) / 1000;
      measuredRows += batch.length;
      measuredBatches++;
      process.stderr.write(`paillier: ${measuredRows} rows in ${(rowSeconds + decryptSeconds).toFixed(1)} s\n`);
      if (Number.isFinite(sampleRows)) break;
    }
  }
  const epochSeconds = (rowSeconds / measuredRows) * trainRows + (decryptSeconds / measuredBatches) * batches;
  if (Number.isFinite(sampleRows)) return { epochSeconds, measuredRows, bytesPerEpoch, auc: null };
  const logits = (rows: Int32Array) => {
    const u = partialLogits(labelBlock.matrix, labelBlock.columns, bank.weights, rows);
    featureBlocks.forEach((b, k) =>
      partialLogits(b.matrix, b.columns, features[k].weights, rows).forEach((v, i) => (u[i] += v)),
    );
    return u;
  };
  const train = pooled.split.train;
  return {
    epochSeconds: epochSeconds / epochs,
    measuredRows: trainRows,
    bytesPerEpoch,
    auc: rocAuc(
      logits(train),
      Array.from(train, (r) => pooled.labels[r]),
    ),
  };
}
