/**
 * The boosting loop around TreeGrower: per tree, the objective's g and h on a seeded row sample
 * (quantised to the fixed point the encrypted protocol carries), a seeded column sample per block,
 * and after the tree the scores, the validation loss and early stopping. The label party of a
 * SecureBoost job and the plaintext reference run this same object.
 */
import { SeededRandom } from '@vfl/data';
import { logLoss, sigmoid } from '../metrics';
import { objective, Objective, ObjectiveName, quantize } from './objective';
import { TreeGrower, TreeNode } from './tree-grower';

export interface GbdtParams {
  readonly objective: ObjectiveName;
  readonly trees: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  readonly lambda: number;
  readonly gamma: number;
  readonly minChildWeight: number;
  readonly maxBins: number;
  /** Share of training rows each tree sees (1: all). */
  readonly rowSample: number;
  /** Share of each block's features each tree may split on (1: all). */
  readonly colSample: number;
  /** Weight of a positive row in the logistic objective; `balanced`: negatives / positives. */
  readonly positiveWeight?: number | 'balanced';
  /** Stop when the validation loss has not improved by minDelta for `patience` trees; keep the best. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number };
  readonly seed: number;
  /** Fixed-point bits of g and h (the encrypted protocol's precision; the reference uses the same). */
  readonly fractionBits: number;
  /**
   * Per tree, the fixed-point bits of its g and h (in the order of the tree's rows), when the
   * precision follows the gradients (SecureBoost's squared error: the label party packs each
   * tree's residuals as tightly as they allow). Default: `fractionBits` for every tree.
   */
  readonly treeFractionBits?: (g: Float64Array, h: Float64Array) => number;
}

export const GBDT_DEFAULTS: GbdtParams = Object.freeze({
  objective: 'binary:logistic',
  trees: 20,
  maxDepth: 5,
  learningRate: 0.3,
  lambda: 1,
  gamma: 0,
  minChildWeight: 1,
  maxBins: 32,
  rowSample: 1,
  colSample: 1,
  seed: 7,
  fractionBits: 16,
});

export interface TreeReport {
  readonly tree: number;
  readonly validationLoss: number;
  readonly leaves: number;
}

/** Everything a booster has learned so far, as plain data (a checkpoint after a tree). */
export interface BoosterState {
  readonly trees: TreeNode[][];
  readonly reports: TreeReport[];
  readonly scores: number[];
  readonly best: { trees: number; loss: number | null; since: number };
  readonly bestScores: number[] | null;
}

export class Booster {
  readonly trees: TreeNode[][] = [];
  readonly reports: TreeReport[] = [];
  /** Every row's score (training and validation rows have distinct ids). */
  readonly scores: Float64Array;
  readonly baseScore: number;
  /** The fixed-point bits of the current tree's g and h. */
  fractionBits: number;
  private readonly objective: Objective;
  private readonly weights: Float64Array | undefined;
  private best = { trees: 0, loss: Infinity, since: 0 };
  /** The scores after the best tree so far (early stopping keeps that model). */
  private bestScores: Float64Array | undefined;

  constructor(
    readonly params: GbdtParams,
    /** Labels by row id. */
    private readonly labels: ArrayLike<number>,
    readonly train: Int32Array,
    readonly validation: Int32Array,
    /** Features per block (block 0: the label party's own). */
    private readonly blockWidths: readonly number[],
  ) {
    this.objective = objective(params.objective);
    this.weights = rowWeights(params, labels, train);
    this.baseScore = this.objective.baseScore(labels, train, this.weights);
    this.scores = new Float64Array(labels.length).fill(this.baseScore);
    this.fractionBits = params.fractionBits;
  }

  /** The grower of tree `tree` (0-based), its g and h computed on the tree's row sample. */
  beginTree(tree: number): TreeGrower {
    const rows = rowSample(this.params, tree, this.train);
    const { g, h } = this.objective.gradients(this.scores, this.labels, rows, this.weights);
    this.fractionBits = this.params.treeFractionBits?.(g, h) ?? this.params.fractionBits;
    quantize(g, this.fractionBits);
    quantize(h, this.fractionBits);
    const gById = new Float64Array(this.labels.length);
    const hById = new Float64Array(this.labels.length);
    rows.forEach((r, k) => {
      gById[r] = g[k];
      hById[r] = h[k];
    });
    const masks = this.blockWidths.map((w, block) => columnMask(this.params, tree, block, w));
    return new TreeGrower(this.params, gById, hById, rows, passengers(this.train, rows, this.validation), masks);
  }

  /** Scores the grown tree; returns true when early stopping says to stop. */
  endTree(grower: TreeGrower): boolean {
    grower.apply(this.scores);
    this.trees.push(grower.nodes);
    const loss = this.validationLoss();
    const tree = this.trees.length;
    this.reports.push({ tree, validationLoss: loss, leaves: grower.nodes.filter((n) => n.leaf !== undefined).length });
    const stopping = this.params.earlyStopping;
    if (!stopping) return false;
    if (loss < this.best.loss - (stopping.minDelta ?? 0)) {
      this.best = { trees: tree, loss, since: 0 };
      this.bestScores = this.scores.slice();
    } else this.best.since++;
    return this.best.since >= stopping.patience;
  }

  /** Trees to keep: all, or up to the best validation loss under early stopping. */
  keptTrees(): number {
    return this.params.earlyStopping && this.best.trees > 0 ? this.best.trees : this.trees.length;
  }

  exportState(): BoosterState {
    return {
      trees: this.trees.map((t) => t.map((n) => ({ ...n }))),
      reports: [...this.reports],
      scores: Array.from(this.scores),
      // Infinity (no best yet) does not survive JSON: null stands for it.
      best: { ...this.best, loss: Number.isFinite(this.best.loss) ? this.best.loss : null },
      bestScores: this.bestScores ? Array.from(this.bestScores) : null,
    };
  }

  /** Continues from a state this booster's settings and data exported (a resumed job). */
  importState(state: BoosterState): void {
    if (state.scores.length !== this.scores.length) throw new RangeError('the state is of other data');
    this.trees.splice(0, this.trees.length, ...state.trees);
    this.reports.splice(0, this.reports.length, ...state.reports);
    this.scores.set(state.scores);
    this.best = { ...state.best, loss: state.best.loss ?? Infinity };
    this.bestScores = state.bestScores ? Float64Array.from(state.bestScores) : undefined;
  }

  /** Probabilities (logistic) or values of `rows` after every tree so far (the per-tree report). */
  currentPredictions(rows: Int32Array): Float64Array {
    return Float64Array.from(rows, (r) => this.objective.transform(this.scores[r]));
  }

  /** Probabilities (logistic) or values (squared error) of `rows`, from the kept trees. */
  predictions(rows: Int32Array): Float64Array {
    const scores = this.bestScores ?? this.scores;
    return Float64Array.from(rows, (r) => this.objective.transform(scores[r]));
  }

  private validationLoss(): number {
    const rows = this.validation.length > 0 ? this.validation : this.train;
    const scores = this.scores;
    if (this.params.objective === 'binary:logistic') {
      return logLoss(
        Array.from(rows, (r) => sigmoid(scores[r])),
        Array.from(rows, (r) => this.labels[r]),
      );
    }
    let sum = 0;
    for (const r of rows) sum += (scores[r] - this.labels[r]) ** 2;
    return sum / rows.length;
  }
}

/** The rows a tree routes without learning from: validation rows and training rows left out of its sample. */
function passengers(train: Int32Array, sampled: Int32Array, validation: Int32Array): Int32Array {
  if (sampled === train) return validation;
  const inSample = new Set(sampled);
  const out = [...train.filter((r) => !inSample.has(r)), ...validation];
  return Int32Array.from(out.sort((a, b) => a - b));
}

function rowWeights(params: GbdtParams, labels: ArrayLike<number>, train: Int32Array): Float64Array | undefined {
  const pw = params.positiveWeight;
  if (pw === undefined || params.objective !== 'binary:logistic') return undefined;
  let positives = 0;
  for (const r of train) positives += labels[r] === 1 ? 1 : 0;
  const weight = pw === 'balanced' ? (train.length - positives) / Math.max(positives, 1) : pw;
  return Float64Array.from({ length: labels.length }, (_, r) => (labels[r] === 1 ? weight : 1));
}

/** The training rows tree `tree` sees: all, or a seeded sample of `rowSample` of them (ascending). */
export function rowSample(params: Pick<GbdtParams, 'rowSample' | 'seed'>, tree: number, train: Int32Array): Int32Array {
  if (params.rowSample >= 1) return train;
  const random = new SeededRandom(mix(params.seed, tree, 0x5157));
  return train.filter(() => random.next() < params.rowSample);
}

/**
 * The features of block `block` tree `tree` may split on, from the job's seed: each party computes
 * its own block's mask and the label party all of them, so both sides agree without a message.
 */
export function columnMask(
  params: Pick<GbdtParams, 'colSample' | 'seed'>,
  tree: number,
  block: number,
  features: number,
): boolean[] | undefined {
  if (params.colSample >= 1 || features === 0) return undefined;
  const random = new SeededRandom(mix(params.seed, tree, block));
  const keep = Math.max(1, Math.round(params.colSample * features));
  const order = Array.from({ length: features }, (_, i) => i);
  for (let i = features - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mask = new Array<boolean>(features).fill(false);
  for (const f of order.slice(0, keep)) mask[f] = true;
  return mask;
}

function mix(seed: number, tree: number, salt: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(tree + 1, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35)) | 0;
}
