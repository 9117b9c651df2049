/** A job request is checked at the edge: the nn block, the data declarations; what it leaves out of split LR is sized later. */
import { validateArchitecture } from '@vfl/ml';
import { validateDefence } from '@vfl/protocol';
import type { CreateJobDto } from './dto/create-job.dto';
import { NN_BLOCK_EXAMPLE, requestOf, requestProblems, specOf } from './job-request';

const parties = [
  { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: 'y' } },
  { partyId: 'shop', role: 'feature', data: { path: 'shop.csv' } },
];
const problemsOf = (request: object) => requestProblems(request as CreateJobDto, () => true);

describe('requestProblems', () => {
  it('says a split-nn job needs an nn block, and shows its shape, when the block is missing', () => {
    const [problem, ...rest] = problemsOf({ model: 'split-nn', parties });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^nn: a split-nn job needs an "nn" block with the network's architecture/);
    expect(problem).toContain(`"nn": ${JSON.stringify(NN_BLOCK_EXAMPLE)}`);
    expect(problem).not.toContain('must be an object, got nothing');
  });

  it('shows an example block that is itself a valid request', () => {
    expect(() => validateArchitecture(NN_BLOCK_EXAMPLE.architecture)).not.toThrow();
    expect(() => validateDefence(NN_BLOCK_EXAMPLE.defence)).not.toThrow();
    expect(problemsOf({ model: 'split-nn', parties, nn: NN_BLOCK_EXAMPLE })).toEqual([]);
  });

  it('still names the field of an architecture that is there but wrong', () => {
    const nn = { architecture: { ...NN_BLOCK_EXAMPLE.architecture, interactive: { units: 0 } } };
    expect(problemsOf({ model: 'split-nn', parties, nn })).toEqual([
      expect.stringMatching(/^nn\.architecture\.interactive\.units must be an integer/),
    ]);
  });
});

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
