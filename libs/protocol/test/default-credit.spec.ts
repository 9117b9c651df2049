/**
 * The quality bar on real data: UCI default of credit card clients from ../shared/data
 * (30,000 rows; label party 13 features, feature party 10), the demo's default hyperparameters.
 */
import * as path from 'node:path';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { InProcessFederation, runTwoPartyJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import type { SplitLrJobResult } from '../src';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const GUEST = 'default_credit_hetero_guest.csv';
const HOST = 'default_credit_hetero_host.csv';
const hp = DEFAULT_LR_HYPERPARAMETERS;

describe('split LR on default credit (30,000 rows)', () => {
  let federation: InProcessFederation;
  let result: SplitLrJobResult;

  beforeAll(async () => {
    ({ federation, result } = await runTwoPartyJob({
      dataRoot: DATA,
      guest: GUEST,
      host: HOST,
      hyperparameters: hp,
      record: false,
    }));
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
    const reference = await plaintextReference(path.join(DATA, GUEST), path.join(DATA, HOST), hp);
    const federated = [...federation.models.get('bank')!.weights, ...federation.models.get('ecommerce')!.weights];
    expect(federated).toHaveLength(reference.weights.length);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    expect(Math.abs(result.train.auc - reference.trainAuc)).toBeLessThan(1e-3);
  });
});
