import { validateArchitecture } from '@vfl/ml';
import { validateDefence } from '@vfl/protocol';
import type { CreateJobDto } from './dto/create-job.dto';
import { NN_BLOCK_EXAMPLE, requestProblems } from './job-request';

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
