/**
 * `npm run bench -- <name> [options] [--json]`: prints a human table and, as the last stdout line
 * with --json, one JSON object with the figures.
 *
 *   psi       --size N [--overlap F]            two-party ECDH-PSI in one process, and its floor
 *   split-lr  [--data default-credit|breast|synthetic] [--rows N --features-label A --features-host B]
 *             [--epochs N] [--batch-size N] [--sigmoid taylor|cubic] [--he ckks|paillier] [--paillier-rows N]
 *             [--ckks-threads N]
 *                                               federated split LR (real CKKS, in one process), and the
 *                                               same protocol under Paillier: timed on N rows and scaled
 *                                               to an epoch (0: skip), or whole with --he paillier
 *   split-nn  [--data default-credit|breast|synthetic] [--defence none|gaussian] [--epochs N]
 *             [--noise-multiplier Z] [--clip-norm C]
 *                                               federated split NN (real CKKS, in one process) and the
 *                                               same network trained centrally in tfjs
 *   api       [--seconds N] [--concurrency N] [--queued N]
 *                                               GET /jobs/:id under load while a job trains, then N
 *                                               queued jobs to completion (real services, PostgreSQL server)
 *   audit     [--events N] [--jobs N] [--producers N]
 *                                               audit appends and chain verification against the
 *                                               PostgreSQL server (DATABASE_URL), in a scratch database
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AuditStore } from '../libs/audit/src/audit-store';
import { verifyTrail } from '../libs/audit/src/audit-verifier';
import { createScratchDatabase, openDatabase } from '../libs/audit/src/database';
import { utf8ToBytes } from '@noble/hashes/utils';
import { CountingPsiEngine, createPsiEngine } from '../libs/crypto/src/psi-engine';
import { loadSodium, SodiumX25519Group } from '../libs/crypto/src/psi-group';
import { writeSyntheticVfl, writeWideSynthetic, BANK_LABEL_COLUMN } from '../libs/data/src/synthetic';
import { batchCount, epochBatches } from '../libs/ml/src/batch-schedule';
import { DEFAULT_LR_HYPERPARAMETERS, partialLogits } from '../libs/ml/src/logistic';
import { rocAuc } from '../libs/ml/src/metrics';
import { PaillierKeyHolder, PaillierLrParty } from '../libs/protocol/src/split-lr/paillier-split-lr';
import { initTensorflow } from '../libs/ml/src/tf-backend';
import { EcdhPsiSession, IdSource, pipelineChunks, psiDomainTag, PsiResult } from '../libs/protocol/src/ecdh-psi';
import { pipelineBigTags, pipelineSmallQueries, UnbalancedPsiBig, UnbalancedPsiSmall } from '../libs/protocol/src/psi/unbalanced-psi';
import { runTwoPartyJob } from '../libs/protocol/src/in-process-federation';
import { launchFederation } from './federation-launcher';
import { plaintextReference, pooledParties, PooledParties } from '../libs/protocol/src/plaintext-reference';
import { runSplitNn, splitNnPlaintextReference } from '../libs/protocol/src/split-nn/runner';
import type { NnArchitecture } from '../libs/ml/src/nn/architecture';
import type { DefenceSpec } from '../libs/protocol/src/split-nn/defence';

// The repo root holds package.json; the shared data sits beside the repo (../shared/data).
const REPO_ROOT = [__dirname, path.resolve(__dirname, '..'), path.resolve(__dirname, '../..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

type Row = [string, string];

function table(title: string, rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(title);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

async function benchPsi(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '100000' },
      small: { type: 'string' },
      mode: { type: 'string', default: 'balanced' },
      overlap: { type: 'string', default: '0.5' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const size = Number(values.size);
  const small = values.small === undefined ? size : Number(values.small);
  const mode = values.mode;
  const overlap = Number(values.overlap);
  const threads = values.threads === undefined ? os.availableParallelism() : Number(values.threads);
  if (!Number.isInteger(size) || size < 1) throw new Error(`--size expects a positive integer, got ${values.size}`);
  if (!Number.isInteger(small) || small < 1 || small > size) throw new Error(`--small expects a positive integer up to --size, got ${values.small}`);
  if (mode !== 'balanced' && mode !== 'unbalanced') throw new Error(`--mode expects balanced or unbalanced, got ${mode}`);
  if (!(overlap >= 0 && overlap <= 1)) throw new Error(`--overlap expects a fraction in [0, 1], got ${values.overlap}`);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads expects a positive integer, got ${values.threads}`);
  // `overlap` is the shared fraction of the small list.
  const shared = Math.round(small * overlap);
  // IDs are generated on demand, so the party's ID list costs no memory at any size: the big side
  // holds 13000000000.., the small side the first `shared` of those and then IDs B does not have.
  const idsBig: IdSource = { size, at: (i) => `1${3_000_000_000 + i}` };
  const idsSmall: IdSource = { size: small, at: (i) => `1${3_000_000_000 + (i < shared ? i : size + i)}` };
  const dst = psiDomainTag(randomUUID());
  // Each party gets its own engine, as each service does; they take turns on the same cores.
  // The small side's is wrapped to count its group operations and the time they keep it busy.
  const smallEngine = new CountingPsiEngine(createPsiEngine(threads));
  const engines = [smallEngine, createPsiEngine(threads)];
  const busy = new BusyClock();

  const t0 = process.hrtime.bigint();
  let bytes = 0;
  let intersection: number;
  let progress: ProgressLine;
  if (mode === 'balanced') {
    const alice = new EcdhPsiSession(smallEngine, idsSmall, dst);
    const bob = new EcdhPsiSession(engines[1], idsBig, dst);
    progress = new ProgressLine(2 * (small + size), () => {
      const [pa, pb] = [alice.progress(), bob.progress()];
      return pa.ownDone + pa.peerDone + pb.ownDone + pb.peerDone;
    });
    // Both directions one after the other, as exchangeLocally does, counting the payload bytes.
    const direction = (sender: EcdhPsiSession, receiver: EcdhPsiSession, own: boolean) =>
      pipelineChunks(
        sender,
        async (k, blinded) => {
          bytes += blinded.length;
          const answer = await receiver.blindPeerChunk(sender.header(k), blinded);
          bytes += answer.length;
          return answer;
        },
        (k, answer) => (own ? busy.time(() => sender.acceptOwnChunk(k, answer)) : sender.acceptOwnChunk(k, answer)),
      );
    await direction(alice, bob, true);
    await direction(bob, alice, false);
    const ra: PsiResult = await busy.timeAsync(() => alice.finish());
    const rb: PsiResult = await bob.finish();
    if (rb.orderDigest !== ra.orderDigest) throw new Error('PSI result is wrong (digests differ)');
    intersection = ra.sharedIds.length;
  } else {
    const s = new UnbalancedPsiSmall(smallEngine, idsSmall, dst);
    const b = new UnbalancedPsiBig(engines[1], idsBig, dst);
    progress = new ProgressLine(2 * small + size, () => {
      const [ps, pb] = [s.progress(), b.progress()];
      return ps.ownDone + pb.peerDone + pb.ownDone;
    });
    // The two phases one after the other, so that the small side's time is not inflated by sharing
    // the cores with the big side's tag stream (the services run them at once, on separate machines).
    await pipelineSmallQueries(s, async (k, blinded) => {
      bytes += blinded.length;
      const answer = await b.answerQuery(s.header(k), blinded);
      bytes += answer.length;
      return answer;
    });
    await pipelineBigTags(b, async (k, tags) => {
      bytes += tags.length;
      busy.time(() => s.acceptPeerTags(b.header(k), tags));
    });
    const result = busy.time(() => s.finish());
    bytes += result.peerPositions.length * 4;
    const bigIds = b.idsAtPositions(result.peerPositions);
    if (bigIds.length !== result.sharedIds.length || bigIds.some((id, k) => id !== result.sharedIds[k])) throw new Error('PSI result is wrong (the sides disagree)');
    intersection = result.sharedIds.length;
  }
  progress.stop();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(engines.map((e) => e.close()));
  if (intersection !== shared) throw new Error(`PSI result is wrong: ${intersection} shared, expected ${shared}`);
  const smallSideSeconds = smallEngine.busySeconds + busy.seconds;

  // Floor: the raw group operations the protocol needs, timed on a sample on one core in this
  // thread and divided by the cores, as if perfectly parallel. Balanced: every ID is hashed once
  // and multiplied twice; unbalanced: |S| + |B| hashes, 3|S| + |B| multiplications.
  const group = loadSodium() ? new SodiumX25519Group() : null;
  const sample = Math.min(size, 20_000);
  const k = randomBytes(32);
  const messages = Array.from({ length: sample }, (_, i) => utf8ToBytes(idsBig.at(i)));
  const t1 = process.hrtime.bigint();
  const points = group ? group.hashToGroupPacked(messages, dst) : new Uint8Array(0);
  const tHash = Number(process.hrtime.bigint() - t1) / 1e9;
  const t2 = process.hrtime.bigint();
  if (group) group.multiplyPacked(k, points);
  const tMul = Number(process.hrtime.bigint() - t2) / 1e9;
  const cores = Math.min(threads, os.availableParallelism());
  const [hashes, multiplications] = mode === 'balanced' ? [small + size, 2 * (small + size)] : [small + size, 3 * small + size];
  const floorSeconds = (hashes * tHash + multiplications * tMul) / sample / cores;

  const result = {
    size,
    intersection,
    seconds: round(seconds, 2),
    floorSeconds: round(floorSeconds, 2),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    curve: engines[1].name,
    cores,
    mode,
    small,
    smallSideSeconds: round(smallSideSeconds, 2),
    smallSideGroupOps: smallEngine.groupOps,
    bytes,
  };
  table(`ECDH-PSI (${mode}), ${small} x ${size} IDs, ${overlap * 100}% of the small list shared, both parties in one process, ${cores} cores`, [
    ['intersection', String(result.intersection)],
    ['seconds', String(result.seconds)],
    ['floor seconds (raw group ops / cores)', String(result.floorSeconds)],
    ['PSI / floor', (seconds / floorSeconds).toFixed(2)],
    ['small side: seconds busy', String(result.smallSideSeconds)],
    ['small side: group operations', String(result.smallSideGroupOps)],
    ['payload bytes exchanged', String(bytes)],
    ['IDs per second (both parties)', String(Math.round((small + size) / seconds))],
    ['hash-to-group per second per core', String(Math.round(sample / tHash))],
    ['X25519 per second per core', String(Math.round(sample / tMul))],
    ['peak RSS MB (both parties)', String(result.peakRssMb)],
    ['engine', result.curve],
  ]);
  return result;
}

/** Wall time spent in one party's own main-thread work (matching, bookkeeping). */
class BusyClock {
  private ns = 0n;
  get seconds(): number {
    return Number(this.ns) / 1e9;
  }
  time<T>(work: () => T): T {
    const t = process.hrtime.bigint();
    try {
      return work();
    } finally {
      this.ns += process.hrtime.bigint() - t;
    }
  }
  async timeAsync<T>(work: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.ns += process.hrtime.bigint() - t;
    }
  }
}

/** Element operations done, rate and ETA on stderr every 5 s (the total counts each ID twice per party). */
class ProgressLine {
  private readonly start = Date.now();
  private readonly timer: NodeJS.Timeout;
  constructor(total: number, done: () => number) {
    this.timer = setInterval(() => {
      const d = done();
      const rate = d / ((Date.now() - this.start) / 1000);
      const eta = rate > 0 ? (total - d) / rate : 0;
      process.stderr.write(`  ${d}/${total} element operations, ${Math.round(rate)}/s, ETA ${eta.toFixed(0)} s\n`);
    }, 5000);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function benchSplitLr(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
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
      json: { type: 'boolean' },
    },
  });
  if (values.he !== 'ckks' && values.he !== 'paillier') throw new Error(`--he must be ckks or paillier, got ${values.he}`);
  const epochs = Number(values.epochs);
  let dataRoot: string;
  let guest: string;
  let host: string;
  let labelColumn = 'y';
  if (values.data === 'default-credit' || values.data === 'breast') {
    const stem = values.data === 'breast' ? 'breast' : 'default_credit';
    dataRoot = SHARED_DATA;
    guest = `${stem}_hetero_guest.csv`;
    host = `${stem}_hetero_host.csv`;
    if (!fs.existsSync(path.join(dataRoot, guest))) throw new Error(`${path.join(dataRoot, guest)} not found (expects ../shared/data beside the repo)`);
  } else if (values.data === 'synthetic') {
    dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-'));
    if (values['features-label'] || values['features-host']) {
      // FATE's performance shape: --rows 100000 --features-label 30 --features-host 300
      await writeWideSynthetic(dataRoot, { rows: Number(values.rows), labelColumns: Number(values['features-label'] ?? 30), hostColumns: Number(values['features-host'] ?? 300) });
      guest = 'wide_guest.csv';
      host = 'wide_host.csv';
    } else {
      await writeSyntheticVfl(dataRoot, { bankRows: Number(values.rows), ecommerceRows: Number(values.rows), overlap: 1 });
      guest = 'bank.csv';
      host = 'ecommerce.csv';
      labelColumn = BANK_LABEL_COLUMN;
    }
  } else {
    throw new Error(`--data must be default-credit, breast or synthetic, got ${values.data}`);
  }
  if (values.sigmoid !== 'taylor' && values.sigmoid !== 'cubic') throw new Error(`--sigmoid must be taylor or cubic, got ${values.sigmoid}`);
  const ckksThreads = values['ckks-threads'] === undefined ? os.availableParallelism() : Number(values['ckks-threads']);
  if (!Number.isInteger(ckksThreads) || ckksThreads < 0) throw new Error(`--ckks-threads must be a whole number, got ${values['ckks-threads']}`);
  const hp = { ...DEFAULT_LR_HYPERPARAMETERS, epochs, sigmoid: values.sigmoid, ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}) } as typeof DEFAULT_LR_HYPERPARAMETERS;
  const pooled = await pooledParties(path.join(dataRoot, guest), path.join(dataRoot, host), hp, labelColumn);
  const reference = await plaintextReference(path.join(dataRoot, guest), path.join(dataRoot, host), hp, labelColumn);
  const tf = await initTensorflow();

  let ckks: { epochSeconds: number; auc: number; labelOnlyAuc: number; bytesPerEpoch: number; byLink: Record<string, number>; rows: number; totalSeconds: number } | null = null;
  if (values.he === 'ckks') {
    const t0 = Date.now();
    const { result } = await runTwoPartyJob({ dataRoot, guest, host, labelColumn, hyperparameters: hp, record: false, ckksThreads });
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
    // V8 flags this run started with (npm run bench adds nodeRuntimeFlags: see node-runtime.ts).
    nodeFlags: process.execArgv.join(' '),
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
      [`seconds per epoch, Paillier 2048${paillier.measuredRows < pooled.split.train.length ? ` (timed on ${paillier.measuredRows} rows, scaled)` : ''}`, String(out.paillierEpochSeconds)],
      ['bytes per epoch, Paillier (all links)', `${(paillier.bytesPerEpoch / 1e6).toFixed(1)} MB`],
    );
    if (paillier.auc !== null) rows.push(['training AUC, federated under Paillier', String(round(paillier.auc, 4))]);
    if (out.ckksSpeedup) rows.push(['CKKS speed-up over Paillier', `${out.ckksSpeedup}x`]);
  }
  rows.push(['HE', values.he === 'ckks' ? 'CKKS N=8192 (node-seal 6.0.3), Paillier 2048 (paillier-bigint 3.4.3)' : 'Paillier 2048 (paillier-bigint 3.4.3)'], ['local math', out.backend]);
  rows.push(['node flags', out.nodeFlags || '(none)']);
  rows.push(['CKKS work', ckksThreads > 0 ? `${ckksThreads} worker threads per party and for the coordinator's decryptions` : 'on the main thread']);
  if (ckks) rows.push(['total seconds (incl. PSI, keys)', String(round(ckks.totalSeconds, 1))]);
  table(`Split LR, ${values.data} (${out.rows} rows, ${out.columns.join(' + ')} columns), ${epochs} epochs, every party and the coordinator in one process`, rows);
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
  const bank = new PaillierLrParty(keys.publicKey, labelBlock.matrix, labelBlock.columns, hp, labelBlock.columns - 1, pooled.labels);
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
      const residual = bank.residual(batch, features.map((f) => f.forward(batch)));
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
    featureBlocks.forEach((b, k) => partialLogits(b.matrix, b.columns, features[k].weights, rows).forEach((v, i) => (u[i] += v)));
    return u;
  };
  const train = pooled.split.train;
  return { epochSeconds: epochSeconds / epochs, measuredRows: trainRows, bytesPerEpoch, auc: rocAuc(logits(train), Array.from(train, (r) => pooled.labels[r])) };
}

async function benchSplitNn(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', default: 'default-credit' },
      rows: { type: 'string', default: '30000' },
      epochs: { type: 'string', default: '8' },
      defence: { type: 'string', default: 'none' },
      'noise-multiplier': { type: 'string', default: '1' },
      'clip-norm': { type: 'string', default: '0.5' },
      json: { type: 'boolean' },
    },
  });
  const epochs = Number(values.epochs);
  let labelFile: string;
  let featureFile: string;
  let labelColumn = 'y';
  if (values.data === 'default-credit' || values.data === 'breast') {
    const stem = values.data === 'breast' ? 'breast' : 'default_credit';
    labelFile = path.join(SHARED_DATA, `${stem}_hetero_guest.csv`);
    featureFile = path.join(SHARED_DATA, `${stem}_hetero_host.csv`);
    if (!fs.existsSync(labelFile)) throw new Error(`${labelFile} not found (expects ../shared/data beside the repo)`);
  } else if (values.data === 'synthetic') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-'));
    const files = await writeSyntheticVfl(dir, { bankRows: Number(values.rows), ecommerceRows: Number(values.rows), overlap: 1 });
    labelFile = files.bankPath;
    featureFile = files.ecommercePath;
    labelColumn = BANK_LABEL_COLUMN;
  } else {
    throw new Error(`--data must be default-credit, breast or synthetic, got ${values.data}`);
  }
  let defence: DefenceSpec;
  if (values.defence === 'none') defence = { kind: 'none' };
  else if (values.defence === 'gaussian') defence = { kind: 'gaussian', noiseMultiplier: Number(values['noise-multiplier']), clipNorm: Number(values['clip-norm']) };
  else throw new Error(`--defence must be none or gaussian, got ${values.defence}`);
  const architecture: NnArchitecture = {
    bottom: [{ units: 32, activation: 'relu' }, { units: 4, activation: 'linear' }],
    interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
    top: [],
    training: { optimizer: 'adam', learningRate: 0.01, batchSize: values.data === 'breast' ? 64 : 1024, epochs, seed: 42, validationFraction: 0.3 },
  };
  const options = { labelFile, labelColumn, featureFiles: [featureFile], labelId: 'bank', featureIds: ['shop'], architecture };
  const t0 = Date.now();
  const result = await runSplitNn({ ...options, defence, onEpoch: (e) => process.stderr.write(`  epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, loss ${e.loss.toFixed(4)}, validation AUC ${e.validationAuc.toFixed(4)}\n`) });
  const total = (Date.now() - t0) / 1000;
  const reference = await splitNnPlaintextReference(options);
  const out = {
    epochSeconds: round(result.epochs.reduce((s, e) => s + e.seconds, 0) / result.epochs.length, 2),
    validationAuc: round(result.validationAuc, 4),
    plaintextValidationAuc: round(reference.validationAuc, 4),
    bytesPerEpoch: result.bytesPerEpoch,
    backend: result.backend,
    defence: defence.kind === 'none' ? 'none' : `gaussian(z=${defence.noiseMultiplier},C=${defence.clipNorm})`,
    epsilon: result.epsilon === undefined ? null : round(result.epsilon, 2),
    data: values.data,
    rows: result.rows,
    epochs: result.epochs.length,
  };
  table(`Split NN, ${values.data} (${result.rows} rows, ${result.validationRows} held out), ${out.epochs} epochs, all parties and the coordinator in one process`, [
    ['seconds per epoch (incl. validation)', String(out.epochSeconds)],
    ['validation AUC, federated', String(out.validationAuc)],
    ['validation AUC, same network central (tfjs)', String(out.plaintextValidationAuc)],
    ['best federated validation AUC (epoch)', `${round(result.bestValidationAuc, 4)} (${result.bestEpoch})`],
    ['bytes per epoch (all links)', `${(out.bytesPerEpoch / 1e6).toFixed(1)} MB`],
    ['decryptions per epoch', String(result.epochs[0].decryptions)],
    ['defence', out.defence + (out.epsilon === null ? '' : `, label-DP epsilon ${out.epsilon} (delta 1e-5)`)],
    ['HE', 'CKKS N=8192 (node-seal 6.0.3), no rotations'],
    ['local math', out.backend],
    ['total seconds (federated)', String(round(total, 1))],
  ]);
  return out;
}

async function benchAudit(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: { events: { type: 'string', default: '1000000' }, jobs: { type: 'string', default: '20' }, producers: { type: 'string', default: '200' }, json: { type: 'boolean' } },
  });
  const events = Number(values.events);
  const jobs = Number(values.jobs);
  const producers = Number(values.producers);
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  // The audit table refuses DELETE and TRUNCATE, so the bench writes into a database of its own
  // and drops it afterwards.
  const scratch = await createScratchDatabase(server, `vfl_bench_audit_${process.pid}`);
  const ds = await openDatabase(scratch.url);
  try {
    const store = new AuditStore(ds);
    const jobIds = Array.from({ length: jobs }, () => randomUUID());
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (;;) {
          const i = next++;
          if (i >= events) return;
          await store.record(jobIds[(p + i) % jobs], {
            step: 'lr.forward', sender: 'ecommerce', receiver: 'bank', messageDigest: 'ab'.repeat(32), byteSize: 400_000, detail: { epoch: 0, batch: i },
          });
        }
      }),
    );
    const insertSeconds = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const verification = await verifyTrail(ds, { jobIds });
    const verifySeconds = (Date.now() - t1) / 1000;
    if (!verification.valid || verification.events !== events) throw new Error(`verification failed: ${JSON.stringify(verification)}`);
    const out = { events, jobs, insertPerSecond: Math.round(events / insertSeconds), verifySeconds: round(verifySeconds, 2), peakRssMb: Math.round(peakRss / 2 ** 20) };
    table(`Audit trail, ${events} events over ${jobs} jobs, ${producers} concurrent producers, PostgreSQL server`, [
      ['appends per second (durable, batched)', String(out.insertPerSecond)],
      ['verify seconds (recompute every hash)', String(out.verifySeconds)],
      ['verified events per second', String(Math.round(events / verifySeconds))],
      ['peak RSS MB', String(out.peakRssMb)],
    ]);
    return out;
  } finally {
    await ds.destroy();
    await scratch.drop();
  }
}

async function benchApi(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '32' }, queued: { type: 'string', default: '20' }, json: { type: 'boolean' } },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const queued = Number(values.queued);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-api-'));
  const big = await writeSyntheticVfl(path.join(work, 'data'), { bankRows: 10_000, ecommerceRows: 10_000 });
  const small = await writeSyntheticVfl(path.join(work, 'small'), { seed: 9, bankRows: 1_000, ecommerceRows: 1_000 });
  fs.copyFileSync(small.bankPath, path.join(work, 'data', 'bank-small.csv'));
  fs.copyFileSync(small.ecommercePath, path.join(work, 'data', 'ecommerce-small.csv'));
  const federation = await launchFederation({
    workDir: work,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '2' },
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: path.dirname(big.bankPath) },
      { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(big.ecommercePath) },
    ],
  });
  const headers = { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' };
  const submit = async (bank: string, shop: string, epochs: number): Promise<string> => {
    const res = await fetch(`${federation.coordinatorUrl}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: bank, labelColumn: BANK_LABEL_COLUMN } },
          { partyId: 'ecommerce', role: 'feature', data: { path: shop } },
        ],
        hyperparameters: { epochs, batchSize: 256 },
      }),
    });
    if (!res.ok) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const state = async (id: string) => ((await (await fetch(`${federation.coordinatorUrl}/jobs/${id}`, { headers })).json()) as { state: string }).state;
  try {
    const training = await submit('bank.csv', 'ecommerce.csv', 50);
    while ((await state(training)) !== 'training') await new Promise((r) => setTimeout(r, 100));
    const latencies: number[] = [];
    let errors = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < until) {
          const t = process.hrtime.bigint();
          const res = await fetch(`${federation.coordinatorUrl}/jobs/${training}`, { headers });
          await res.arrayBuffer();
          if (!res.ok) errors++;
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const rps = latencies.length / seconds;
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    const p50 = latencies[Math.floor(latencies.length * 0.5)];
    await fetch(`${federation.coordinatorUrl}/jobs/${training}/cancel`, { method: 'POST', headers });

    const t0 = Date.now();
    const ids = [];
    for (let i = 0; i < queued; i++) ids.push(await submit('bank-small.csv', 'ecommerce-small.csv', 1));
    let done: string[] = [];
    for (;;) {
      done = await Promise.all(ids.map(state));
      if (done.every((s) => ['succeeded', 'failed', 'cancelled'].includes(s))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const jobsCompleted = done.filter((s) => s === 'succeeded').length;
    const out = { rps: Math.round(rps), p50Ms: round(p50, 1), p99Ms: round(p99, 1), errors, jobsCompleted, queuedSeconds: round((Date.now() - t0) / 1000, 1) };
    table(`Coordinator API, GET /jobs/:id from ${concurrency} concurrent clients for ${seconds} s while a job trains (same 2-core machine)`, [
      ['requests per second', String(out.rps)],
      ['p50 / p99 latency ms', `${out.p50Ms} / ${out.p99Ms}`],
      ['errors', String(errors)],
      [`queued jobs completed (of ${queued}, 2 at a time)`, `${jobsCompleted} in ${out.queuedSeconds} s`],
    ]);
    return out;
  } finally {
    await federation.stop();
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const benches: Record<string, (argv: string[]) => Promise<Record<string, unknown>>> = { psi: benchPsi, 'split-lr': benchSplitLr, 'split-nn': benchSplitNn, audit: benchAudit, api: benchApi };
  const bench = benches[name];
  if (!bench) throw new Error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options] [--json]`);
  const result = await bench(rest);
  if (json) console.log(JSON.stringify(result));
}

main()
  .then(() => {
    clearInterval(rssTimer);
    process.exit(0);
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
