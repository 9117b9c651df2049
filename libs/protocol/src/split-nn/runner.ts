/**
 * Split NN with every participant in one process, driven message by message exactly as a job
 * would drive them over the network (every ciphertext serialized and parsed again), and the
 * plaintext reference on the same aligned rows. For tests and benchmarks: it reads every
 * party's file. PSI is not run: rows are aligned as PSI would agree on them (shared IDs sorted by
 * code units).
 */
import { CkksContext, CkksEncryptor } from '@vfl/crypto';
import { loadPartyTable, PartyTable } from '@vfl/data';
import {
  epochBatches,
  RowSplit,
  trainValidationSplit,
  rocAuc,
  NnArchitecture,
  validateArchitecture,
  EpochRecord,
  NnEarlyStopping,
  NnTrainingResult,
  PartyBlock,
  trainCentralNn,
  partySeed,
  Standardizer,
  initTensorflow,
} from '@vfl/ml';
import { SplitNnCoordinator } from './coordinator';
import { DefenceSpec, gaussianLabelDpEpsilon, NO_DEFENCE, validateDefence } from './defence';
import { SplitNnFeatureParty } from './feature-party';
import { SplitNnJobLayout } from './job-layout';
import { SplitNnLabelParty } from './label-party';
import { BatchKey, messageBytes } from './messages';

export interface SplitNnDataOptions {
  readonly labelFile: string;
  readonly labelColumn?: string;
  readonly featureFiles: readonly string[];
  /** Party ids, default "label" and "feature1", "feature2", ... */
  readonly labelId?: string;
  readonly featureIds?: readonly string[];
  readonly architecture: NnArchitecture;
}

export interface SplitNnRunOptions extends SplitNnDataOptions {
  readonly defence?: DefenceSpec;
  /** Rows per evaluation batch. Default 4096. */
  readonly evalBatchSize?: number;
  readonly onEpoch?: (record: SplitNnEpochRecord) => void;
}

export interface SplitNnEpochRecord extends EpochRecord {
  readonly bytes: number;
  readonly decryptions: number;
}

export interface SplitNnRunResult extends NnTrainingResult {
  readonly epochs: SplitNnEpochRecord[];
  readonly rows: number;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly bytesPerEpoch: number;
  readonly backend: string;
  readonly defence: DefenceSpec;
  /** Label-DP ε (δ = 1e-5) towards the feature parties, for the gaussian defence. */
  readonly epsilon?: number;
}

export interface AlignedData {
  readonly label: PartyBlock;
  readonly features: PartyBlock[];
  readonly labels: Uint8Array;
  readonly split: RowSplit;
}

/** Aligns all parties on their shared IDs sorted by code units, splits by seed, standardises each block on its training rows. */
export async function loadAligned(o: SplitNnDataOptions): Promise<AlignedData> {
  const arch = validateArchitecture(o.architecture);
  const label = await loadPartyTable(o.labelFile, { labelColumn: o.labelColumn ?? 'y' });
  const features = await Promise.all(o.featureFiles.map((f) => loadPartyTable(f)));
  const sets = features.map((t) => new Set(t.ids));
  const order = label.ids.filter((id) => sets.every((s) => s.has(id))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(order.length, arch.training.validationFraction ?? 0.3, arch.training.seed);
  const block = (t: PartyTable, id: string): PartyBlock => {
    const index = new Map(t.ids.map((x, i) => [x, i]));
    const w = t.featureNames.length;
    const m = new Float64Array(order.length * w);
    order.forEach((x, r) => m.set(t.features.subarray(index.get(x)! * w, (index.get(x)! + 1) * w), r * w));
    return {
      id,
      matrix: Standardizer.fit(m, w, split.train).transform(m, w),
      columns: w,
      seed: partySeed(arch.training.seed, id),
    };
  };
  const labelIndex = new Map(label.ids.map((x, i) => [x, i]));
  const featureIds = o.featureIds ?? o.featureFiles.map((_, i) => `feature${i + 1}`);
  return {
    label: block(label, o.labelId ?? 'label'),
    features: features.map((t, i) => block(t, featureIds[i])),
    labels: Uint8Array.from(order, (x) => label.labels![labelIndex.get(x)!]),
    split,
  };
}

/** The same architecture trained centrally on the pooled rows. */
export async function splitNnPlaintextReference(o: SplitNnDataOptions): Promise<NnTrainingResult> {
  const data = await loadAligned(o);
  const { tf } = await initTensorflow();
  return trainCentralNn({ tf, architecture: o.architecture, ...data });
}

export async function runSplitNn(o: SplitNnRunOptions): Promise<SplitNnRunResult> {
  const arch = validateArchitecture(o.architecture);
  const defence = validateDefence(o.defence ?? NO_DEFENCE);
  const data = await loadAligned(o);
  const runtime = await initTensorflow();
  const { tf } = runtime;
  const ckks = await CkksContext.create();
  const layout = new SplitNnJobLayout(
    {
      architecture: arch,
      label: { id: data.label.id, inputWidth: data.label.columns },
      features: data.features.map((f) => ({ id: f.id, inputWidth: f.columns })),
    },
    ckks.slots,
  );
  const coordinator = SplitNnCoordinator.create(ckks, layout);
  const encryptors: CkksEncryptor[] = [];
  const encryptor = (): CkksEncryptor => {
    const e = CkksEncryptor.fromBundle(ckks, coordinator.publicBundle());
    encryptors.push(e);
    return e;
  };
  const label = new SplitNnLabelParty({
    id: data.label.id,
    layout,
    tf,
    ckks,
    encryptor: encryptor(),
    features: data.label.matrix,
    labels: data.labels,
    seed: data.label.seed,
    defence,
  });
  const features = data.features.map(
    (f) =>
      new SplitNnFeatureParty({ id: f.id, layout, tf, ckks, encryptor: encryptor(), features: f.matrix, seed: f.seed }),
  );
  const stopping = new NnEarlyStopping(arch.training.earlyStopping?.patience, arch.training.earlyStopping?.minDelta);
  const epochs: SplitNnEpochRecord[] = [];
  let bytes = 0;
  const send = <T>(message: T): T => {
    bytes += messageBytes(message);
    return message;
  };

  /** Steps 1–4: Σ_f α_f·W_f released to the label party. */
  const forward = (key: BatchKey, rows: Int32Array): Float64Array => {
    coordinator.announce(key, rows.length);
    const outputs = features.map((f) => f.forward(key, rows));
    const products = send(
      label.forwardProducts(
        key,
        rows,
        outputs.map((x) => send(x.toLabel)),
      ),
    );
    return send(
      coordinator.releaseForward(
        key,
        products,
        outputs.map((x) => send(x.toCoordinator)),
      ),
    );
  };

  /** Validation AUC of the current model (steps 1–4 in inference mode, then the label party scores). */
  const evaluate = (epoch: number): number => {
    const validation = data.split.validation;
    const evalBatch = o.evalBatchSize ?? 4096;
    const scores = new Float64Array(validation.length);
    for (let start = 0, batch = 0; start < validation.length; start += evalBatch, batch++) {
      const rows = validation.subarray(start, Math.min(validation.length, start + evalBatch));
      const key: BatchKey = { phase: 'eval', epoch, batch };
      scores.set(label.predict(key, forward(key, rows)), start);
    }
    return rocAuc(scores, label.labelsOf(validation));
  };

  try {
    let stoppedEarly = false;
    for (let epoch = 0; epoch < arch.training.epochs; epoch++) {
      const t0 = Date.now();
      bytes = 0;
      const decryptionsBefore = coordinator.service.decryptions;
      let lossSum = 0;
      const batches = epochBatches(data.split.train, arch.training.batchSize, arch.training.seed, epoch);
      batches.forEach((rows, batch) => {
        const key: BatchKey = { phase: 'train', epoch, batch };
        const step = label.trainStep(key, forward(key, rows));
        lossSum += step.loss;
        features.forEach((f, i) => {
          const products = send(f.backward(key, send(step.toFeatures[i])));
          f.applyRelease(key, send(coordinator.releaseBackward(key, f.id, products, send(step.toCoordinator[i]))));
        });
      });
      const auc = evaluate(epoch);
      const record: SplitNnEpochRecord = {
        epoch,
        loss: lossSum / batches.length,
        validationAuc: auc,
        seconds: (Date.now() - t0) / 1000,
        bytes,
        decryptions: coordinator.service.decryptions - decryptionsBefore,
      };
      epochs.push(record);
      o.onEpoch?.(record);
      const stop = stopping.record(epoch, auc);
      // With early stopping every party keeps its weights of the best epoch and returns to them.
      if (arch.training.earlyStopping && stopping.bestEpoch === epoch)
        [label, ...features].forEach((p) => p.checkpoint());
      if (stop) {
        stoppedEarly = true;
        break;
      }
    }
    let finalAuc = epochs[epochs.length - 1].validationAuc;
    if (arch.training.earlyStopping && stopping.bestEpoch < epochs.length - 1) {
      [label, ...features].forEach((p) => p.restoreCheckpoint());
      finalAuc = evaluate(epochs.length);
    }
    return {
      epochs,
      validationAuc: finalAuc,
      bestValidationAuc: stopping.best,
      bestEpoch: stopping.bestEpoch,
      stoppedEarly,
      rows: data.labels.length,
      trainRows: data.split.train.length,
      validationRows: data.split.validation.length,
      bytesPerEpoch: Math.round(epochs.reduce((s, e) => s + e.bytes, 0) / epochs.length),
      backend: runtime.description,
      defence,
      epsilon: defence.kind === 'gaussian' ? gaussianLabelDpEpsilon(defence.noiseMultiplier, epochs.length) : undefined,
    };
  } finally {
    label.dispose();
    features.forEach((f) => f.dispose());
    encryptors.forEach((e) => e.dispose());
    coordinator.dispose();
    ckks.dispose();
  }
}
