/** A job request's data declarations are checked with the rest, and what it leaves out of split LR is sized later. */
import { requestOf, requestProblems, specOf } from './job-request';
import type { CreateJobDto } from './dto/create-job.dto';

const request = (over: Partial<CreateJobDto> = {}, bank: object = {}): CreateJobDto => ({
  model: 'split-lr',
  parties: [
    { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: 'y', ...bank } },
    { partyId: 'shop', role: 'feature', data: { path: 'shop.csv' } },
  ],
  ...over,
});

describe('job requests', () => {
  it('names each problem of a party data declaration', () => {
    const problems = requestProblems(
      request(
        {},
        { missing: 'constant', featureColumns: ['a'], excludeColumns: ['b'], columns: { c: { encoding: 'hash' } } },
      ),
      () => true,
    );
    expect(problems).toEqual([expect.stringMatching(/^parties\.0\.data\.columns\.c\.encoding: /)]);
    expect(
      requestProblems(request({}, { missing: 'constant', featureColumns: ['a'], excludeColumns: ['b'] }), () => true),
    ).toEqual([
      'parties.0.data.featureColumns and excludeColumns: give one of them, not both',
      'parties.0.data.missing: "constant" needs a fillValue',
    ]);
  });

  it('sizes batch size and epochs from the rows when left out, with early stopping; keeps what is given', () => {
    const sized = specOf(request(), 'j1', () => undefined);
    expect(sized.sizedByRows).toEqual({ batchSize: true, epochs: true });
    expect(sized.hyperparameters.earlyStopping).toEqual({ metric: 'auc', patience: 3 });
    expect(requestOf(sized).hyperparameters).not.toHaveProperty('batchSize');
    expect(requestOf(sized).hyperparameters).not.toHaveProperty('epochs');
    const given = specOf(request({ hyperparameters: { epochs: 4, batchSize: 256 } }), 'j2', () => undefined);
    expect(given.sizedByRows).toBeUndefined();
    expect(given.hyperparameters).toMatchObject({ epochs: 4, batchSize: 256 });
    expect(given.hyperparameters.earlyStopping).toBeUndefined();
    // The data declarations travel to the party as written.
    const declared = specOf(request({}, { missing: 'median', detectCategorical: true }), 'j3', () => undefined);
    expect(declared.parties[0].data).toEqual({
      path: 'bank.csv',
      labelColumn: 'y',
      missing: 'median',
      detectCategorical: true,
    });
  });
});
