/**
 * The plaintext reference of split NN: the same architecture trained centrally in tfjs on the
 * pooled rows, with the federated run's seeds, batches, dropout masks, initial weights (W_f =
 * V_f + N_f) and optimizers, so the two differ only by CKKS and release noise (and the defence).
 */
import type * as Tf from '@tensorflow/tfjs';
import { epochBatches, RowSplit } from '../batch-schedule';
import { rocAuc } from '../metrics';
import { INTERACTIVE_DEFAULTS, NnArchitecture, scheduleFactor } from './architecture';
import { activate, DenseStack, readTensor } from './dense-stack';
import {
  bottomDropoutSeed,
  buildBottom,
  buildTop,
  interactiveShare,
  labelInteractiveWeights,
  topDropoutSeed,
} from './models';
import { TfOptimizer } from './optimizer';

export interface PartyBlock {
  readonly id: string;
  /** Standardised, row-major, aligned rows. */
  readonly matrix: Float64Array;
  readonly columns: number;
  readonly seed: number;
}

export interface CentralNnInput {
  readonly tf: typeof Tf;
  readonly architecture: NnArchitecture;
  readonly label: PartyBlock;
  readonly features: readonly PartyBlock[];
  readonly labels: Uint8Array;
  readonly split: RowSplit;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly validationAuc: number;
  readonly seconds: number;
}

export interface NnTrainingResult {
  readonly epochs: EpochRecord[];
  /** Validation AUC of the model kept: the last epoch, or with early stopping the best one. */
  readonly validationAuc: number;
  readonly bestValidationAuc: number;
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
}

/** Early stopping on validation AUC. */
export class EarlyStopping {
  best = -Infinity;
  bestEpoch = -1;
  private waited = 0;

  constructor(
    private readonly patience: number | undefined,
    private readonly minDelta = 0,
  ) {}

  /** Records an epoch's AUC; true when training should stop. */
  record(epoch: number, auc: number): boolean {
    if (auc > this.best + this.minDelta || this.bestEpoch < 0) {
      this.best = Math.max(auc, this.best);
      this.bestEpoch = epoch;
      this.waited = 0;
      return false;
    }
    this.waited++;
    return this.patience !== undefined && this.waited >= this.patience;
  }
}

export async function trainCentralNn(input: CentralNnInput): Promise<NnTrainingResult> {
  const { tf, architecture: arch, labels, split } = input;
  const parties = [input.label, ...input.features];
  const bottoms = parties.map((p) => buildBottom(tf, arch, p.id, p.columns, p.seed));
  const top = buildTop(tf, arch, input.label.seed);
  const h = arch.interactive.units;
  const kernels = parties.map((p, i) => {
    const d = bottoms[i].outputWidth;
    if (i === 0) return tf.variable(tf.tensor2d(labelInteractiveWeights(p.seed, d, h), [d, h]));
    const v = interactiveShare('label', input.label.seed, p.id, d, h);
    const n = interactiveShare('feature', p.seed, p.id, d, h);
    return tf.variable(
      tf.tensor2d(
        Float32Array.from(v, (x, t) => x + n[t]),
        [d, h],
      ),
    );
  });
  const bias = tf.variable(tf.zeros([h]));
  const xs = parties.map((p) => tf.tensor2d(Float32Array.from(p.matrix), [p.matrix.length / p.columns, p.columns]));
  const y = tf.tensor2d(Float32Array.from(labels), [labels.length, 1]);
  const optimizer = new TfOptimizer(tf, arch.training.optimizer);
  const momentum = arch.interactive.momentum ?? INTERACTIVE_DEFAULTS.momentum;
  const interactiveOptimizer = new TfOptimizer(tf, 'momentum', momentum);
  const activation = arch.interactive.activation ?? INTERACTIVE_DEFAULTS.activation;
  const own = [...bottoms.flatMap((b) => b.trainable()), ...top.trainable()];
  const interactive = [...kernels, bias];
  const stopping = new EarlyStopping(arch.training.earlyStopping?.patience, arch.training.earlyStopping?.minDelta);
  const epochs: EpochRecord[] = [];

  const logits = (
    rows: Int32Array,
    stacks: DenseStack[],
    options: (p: number) => { training: boolean; dropoutSeed?: number; updateStatistics?: boolean },
    topOptions: { training: boolean; dropoutSeed?: number; updateStatistics?: boolean },
  ): Tf.Tensor2D => {
    const index = tf.tensor1d(rows, 'int32');
    let z = tf.add<Tf.Tensor2D>(tf.zeros([rows.length, h]), bias);
    stacks.forEach((stack, p) => {
      z = tf.add<Tf.Tensor2D>(
        z,
        tf.matMul(stack.forward(tf.gather<Tf.Tensor2D>(xs[p], index), options(p)), kernels[p]),
      );
    });
    return top.forward(activate(tf, z, activation), topOptions);
  };

  try {
    let stoppedEarly = false;
    for (let epoch = 0; epoch < arch.training.epochs; epoch++) {
      const t0 = Date.now();
      const factor = scheduleFactor(arch.training.schedule, epoch, arch.training.epochs);
      let lossSum = 0;
      const batches = epochBatches(split.train, arch.training.batchSize, arch.training.seed, epoch);
      batches.forEach((rows, b) => {
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logit = logits(
              rows,
              bottoms,
              (p) => ({
                training: true,
                dropoutSeed: bottomDropoutSeed(parties[p].seed, epoch, b),
                updateStatistics: true,
              }),
              { training: true, dropoutSeed: topDropoutSeed(input.label.seed, epoch, b), updateStatistics: true },
            );
            return tf.losses.sigmoidCrossEntropy<Tf.Tensor, Tf.Scalar>(tf.gather(y, tf.tensor1d(rows, 'int32')), logit);
          }, [...own, ...interactive]);
          lossSum += value.dataSync()[0];
          optimizer.apply(own, grads, arch.training.learningRate * factor);
          interactiveOptimizer.apply(
            interactive,
            grads,
            (arch.interactive.learningRate ?? INTERACTIVE_DEFAULTS.learningRate) * factor,
          );
        });
      });
      const scores = readTensor(tf, () =>
        logits(split.validation, bottoms, () => ({ training: false }), { training: false }),
      );
      const auc = rocAuc(
        scores,
        Array.from(split.validation, (r) => labels[r]),
      );
      epochs.push({ epoch, loss: lossSum / batches.length, validationAuc: auc, seconds: (Date.now() - t0) / 1000 });
      if (stopping.record(epoch, auc)) {
        stoppedEarly = true;
        break;
      }
    }
    return {
      epochs,
      // With early stopping the model kept is the best epoch's (as the federated parties do).
      validationAuc: arch.training.earlyStopping ? stopping.best : epochs[epochs.length - 1].validationAuc,
      bestValidationAuc: stopping.best,
      bestEpoch: stopping.bestEpoch,
      stoppedEarly,
    };
  } finally {
    bottoms.forEach((b) => b.dispose());
    top.dispose();
    [...kernels, bias, ...xs, y].forEach((t) => t.dispose());
    optimizer.dispose();
    interactiveOptimizer.dispose();
  }
}
