/**
 * The quality bar on real data: UCI default of credit card clients from ../shared/data
 * (30,000 rows; label party 13 features, feature party 10), the demo's default hyperparameters.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EcdhPsiSession, PsiResult } from '../src/ecdh-psi';
import { DEFAULT_LR_HYPERPARAMETERS } from '../../ml/src/logistic';
import { SplitLrJob, SplitLrJobResult } from '../src/split-lr-job';
import { inProcessFederation, InProcessFederation } from '../src/in-process-federation';
import { plaintextReference } from '../src/plaintext-reference';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const hp = DEFAULT_LR_HYPERPARAMETERS;

describe('split LR on default credit (30,000 rows)', () => {
  let federation: InProcessFederation;
  let result: SplitLrJobResult;
  let psi: PsiResult;

  beforeAll(async () => {
    federation = await inProcessFederation(
      [
        { partyId: 'bank', role: 'label' },
        { partyId: 'ecommerce', role: 'feature' },
      ],
      DATA,
    );
    const finish = jest.spyOn(EcdhPsiSession.prototype, 'finish');
    result = await new SplitLrJob(
      {
        jobId: randomUUID(),
        model: 'split-lr',
        hyperparameters: hp,
        parties: [
          { partyId: 'bank', role: 'label', data: { path: 'default_credit_hetero_guest.csv', labelColumn: 'y' } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'default_credit_hetero_host.csv' } },
        ],
      },
      federation.channels,
      { audit: async () => undefined, phase: async () => undefined, progress: () => undefined },
    ).run();
    psi = finish.mock.results[0].value as PsiResult;
    finish.mockRestore();
  }, 600_000);

  it(`reaches training AUC >= 0.715 in the default ${hp.epochs} epochs (scikit-learn's exact LR: 0.724)`, () => {
    expect(result.intersection).toBe(30_000);
    expect(result.epochs).toHaveLength(hp.epochs);
    expect(result.train.auc).toBeGreaterThanOrEqual(0.715);
    expect(result.validation.auc).toBeGreaterThanOrEqual(0.71);
  });

  it('beats the label party alone (reference: 0.659 with its 13 features)', () => {
    expect(result.train.auc - result.labelOnly.train.auc).toBeGreaterThan(0.04);
  });

  it('ends with the weights of the plaintext algorithm on the joined data, within 1e-3', async () => {
    const { weights: reference } = await plaintextReference(
      path.join(DATA, 'default_credit_hetero_guest.csv'),
      path.join(DATA, 'default_credit_hetero_host.csv'),
      psi.sharedIds,
      hp,
    );
    const federated = [...federation.models.get('bank')!.weights, ...federation.models.get('ecommerce')!.weights];
    expect(federated).toHaveLength(reference.length);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference[j])))).toBeLessThan(1e-3);
  });
});
