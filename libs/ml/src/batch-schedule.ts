/**
 * The row schedule every party derives on its own from the job seed, so that all parties cut
 * the aligned rows into the same validation split and the same mini-batches without exchanging
 * a single index. Rows are positions in the PSI's agreed ordering of shared IDs.
 */
import { SeededRandom } from '@vfl/data';

export interface RowSplit {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/**
 * @throws RangeError when the fraction leaves either side empty.
 */
export function trainValidationSplit(rows: number, validationFraction: number, seed: number): RowSplit {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`"validationFraction" expected in [0, 1), got ${validationFraction}`);
  }
  const order = permutation(rows, new SeededRandom(seed));
  const validationRows = Math.round(rows * validationFraction);
  if (rows - validationRows < 1) throw new RangeError(`${rows} rows leave no training rows`);
  return {
    train: Int32Array.from(order.slice(validationRows)).sort(),
    validation: Int32Array.from(order.slice(0, validationRows)).sort(),
  };
}

/** How many batches an epoch over `rows` training rows has (the remainder joins the last batch). */
export function batchCount(rows: number, batchSize: number): number {
  return Math.max(1, Math.floor(rows / batchSize));
}

/**
 * The mini-batches of one epoch: a fresh seeded shuffle of the training rows, cut in order. The
 * remainder joins the last batch instead of forming a short one: a batch with few rows would let
 * a party solve its aggregated gradient for individual residuals.
 */
export function epochBatches(train: Int32Array, batchSize: number, seed: number, epoch: number): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`"batchSize" expected a positive integer, got ${batchSize}`);
  const order = permutation(train.length, new SeededRandom(seed * 1_000_003 + epoch + 1));
  const count = batchCount(train.length, batchSize);
  return Array.from({ length: count }, (_, b) => {
    const end = b === count - 1 ? order.length : (b + 1) * batchSize;
    return Int32Array.from(order.slice(b * batchSize, end), (k) => train[k]);
  });
}

function permutation(n: number, random: SeededRandom): number[] {
  return random.shuffle(Array.from({ length: n }, (_, i) => i));
}

/** The share of aligned rows held out for validation when a job does not say: the same for split LR and split NN. */
export const DEFAULT_VALIDATION_FRACTION = 0.2;

/** Gradient steps a job sized from its rows aims at (split LR converges within this on the tables we know). */
export const TARGET_GRADIENT_STEPS = 400;

/**
 * Batch size and epochs for `rows` aligned rows, when a job leaves them out: batches of about a
 * sixteenth of the training rows (a power of two in [32, 1024], and at least `minimumBatch`), and
 * epochs for about {@link TARGET_GRADIENT_STEPS} steps (10 to 100; early stopping ends it sooner).
 * 24,000 training rows get 1,024 x 18; 677 get 32 x 20 (the old 1,024 x 10 was 10 steps in all).
 */
export function scheduleForRows(
  rows: number,
  validationFraction: number,
  minimumBatch = 32,
): { batchSize: number; epochs: number } {
  const train = Math.max(1, Math.round(rows * (1 - validationFraction)));
  let batchSize = 32;
  while (batchSize < 1024 && batchSize * 2 <= train / 16) batchSize *= 2;
  while (batchSize < minimumBatch) batchSize *= 2;
  const epochs = Math.min(100, Math.max(10, Math.ceil(TARGET_GRADIENT_STEPS / batchCount(train, batchSize))));
  return { batchSize, epochs };
}
