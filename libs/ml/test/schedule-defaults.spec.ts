/** Batch size and epochs sized from the rows when a job leaves them out. */
import { batchCount, DEFAULT_LR_HYPERPARAMETERS, DEFAULT_VALIDATION_FRACTION, scheduleForRows } from '../src';

describe('scheduleForRows', () => {
  it.each([
    // rows, batch size, epochs: about 400 steps, batches of about a sixteenth of the training rows
    [30_000, 1024, 18],
    [10_000, 256, 13],
    [846, 32, 20],
    [200, 32, 80],
    [40, 32, 100],
  ])('%i rows: batches of %i, %i epochs', (rows, batchSize, epochs) => {
    expect(scheduleForRows(rows, 0.2)).toEqual({ batchSize, epochs });
  });

  it('gives at least the batch the widest party needs, in powers of two', () => {
    expect(scheduleForRows(846, 0.2, 66)).toEqual({ batchSize: 128, epochs: 80 });
    const { batchSize, epochs } = scheduleForRows(846, 0.2, 66);
    expect(batchCount(677, batchSize) * epochs).toBeGreaterThanOrEqual(400);
  });

  it('holds out one share for split LR and split NN', () => {
    expect(DEFAULT_VALIDATION_FRACTION).toBe(0.2);
    expect(DEFAULT_LR_HYPERPARAMETERS.validationFraction).toBe(DEFAULT_VALIDATION_FRACTION);
  });
});
