/**
 * Declared preprocessing in a real split-LR job, in one process: a public-derived table with text
 * columns and gaps trains once each party fills and encodes its own columns; what a party fitted
 * stays in its saved part (the coordinator sees generic column names and counts only), and
 * prediction reads new rows through the same fit.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SigningIdentity } from '@vfl/crypto';
import { applyPreprocessing, loadPartyTable, predictionLoadOptions } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, sigmoid } from '@vfl/ml';
import { isSplitLrResult, runInProcessJob, SplitLrPrediction } from '../src';
import { signManifest } from '../src/model-manifest';
import type { PartyModel } from '../src/split-lr/model';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/data-as-it-comes');
const GUEST = 'breast_text_guest.csv';
const HOST = 'breast_text_host.csv';

describe('split LR on a table with text columns and gaps, preprocessed by each party', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-preprocess-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains, keeps every fitted value at its party, and predicts through the same fit', async () => {
    fs.copyFileSync(path.join(FIXTURES, GUEST), path.join(dir, GUEST));
    fs.copyFileSync(path.join(FIXTURES, HOST), path.join(dir, HOST));
    const jobId = randomUUID();
    const run = await runInProcessJob({
      jobId,
      dataRoot: dir,
      hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 8, batchSize: 64, learningRate: 0.05 },
      ckksThreads: 0,
      record: true,
      label: {
        partyId: 'bank',
        file: GUEST,
        labelColumn: 'y',
        data: { columns: { size_band: { encoding: 'ordinal', levels: ['small', 'medium', 'large', 'very large'] } } },
      },
      features: [
        {
          partyId: 'clinic',
          file: HOST,
          data: {
            detectCategorical: true,
            columns: { texture_grade: { encoding: 'one-hot' }, clinic: { encoding: 'one-hot', maxLevels: 6 } },
            missing: 'median',
          },
        },
      ],
    });
    if (!isSplitLrResult(run.result)) throw new Error('not a split-LR result');
    const { result, federation } = run;
    expect(result.validation.auc).toBeGreaterThan(0.95);
    expect(result.labelOnly.uplift?.difference).toBeCloseTo(
      result.validation.auc - result.labelOnly.validation.auc,
      10,
    );

    const bank = federation.models.get('bank')!;
    const clinic = federation.models.get('clinic')!;
    expect(bank.columns).toEqual(['x2', 'x3', 'x4', 'x5', 'x6', 'size_band', '(intercept)']);
    expect(clinic.columns.slice(10)).toEqual([
      'texture_grade[1]',
      'texture_grade[2]',
      'texture_grade[3]',
      'texture_grade[4]',
      'texture_grade[5]',
      'texture_grade[other]',
      'clinic[1]',
      'clinic[2]',
      'clinic[3]',
      'clinic[4]',
      'clinic[5]',
      'clinic[other]',
    ]);
    expect(clinic.preprocessing?.categorical.map((c) => c.levels.length)).toEqual([5, 5]);
    // No category value crosses a party boundary: not in any message, not in the manifest. (The bank's
    // ordinal order is written in the job by its author and reaches the bank in job.check and job.prepare; that is all.)
    const fitted = (m: PartyModel) => (m.preprocessing?.categorical ?? []).flatMap((c) => c.levels);
    expect(fitted(clinic)).toEqual(expect.arrayContaining(['Leeds', 'C']));
    expect(fitted(bank)).toEqual(['small', 'medium', 'large', 'very large']);
    // (Names of four or more characters: a single letter turns up in any ciphertext by chance.)
    const words = [...fitted(clinic), ...fitted(bank)].filter((level) => level.length >= 4);
    const decoder = new TextDecoder();
    const leaked = federation.wire.filter(
      (m) =>
        !(['job.check', 'job.prepare'].includes(m.kind) && m.to === 'bank') &&
        words.some((w) => decoder.decode(m.bytes).includes(w)),
    );
    expect(leaked.map((m) => `${m.kind} to ${m.to}`)).toEqual([]);
    expect(JSON.stringify(result.manifest)).not.toContain('Leeds');

    // Prediction: each party reads rows through its saved fit; the scores are the model's on those rows.
    const coordinator = federation.coordinator ?? SigningIdentity.generate('coordinator');
    const guest = await loadPartyTable(path.join(dir, GUEST), {
      idColumn: 'id',
      ...predictionLoadOptions(bank.preprocessing!, false),
    });
    const host = await loadPartyTable(path.join(dir, HOST), predictionLoadOptions(clinic.preprocessing!, false));
    const ids = guest.ids.filter((id) => host.ids.includes(id)).slice(0, 5);
    const out = await new SplitLrPrediction(
      {
        predictionId: randomUUID(),
        modelJobId: jobId,
        parties: [
          { partyId: 'bank', role: 'label' },
          { partyId: 'clinic', role: 'feature' },
        ],
        manifest: signManifest(result.manifest, coordinator),
        ids,
      },
      federation.channels,
      async () => undefined,
    ).run();
    const logit = (m: PartyModel, rows: Float64Array, width: number, row: number) => {
      let s = m.role === 'label' ? m.weights[m.weights.length - 1] : 0;
      for (let j = 0; j < width; j++) {
        const z = (rows[row * width + j] - m.standardization.means[j]) / m.standardization.deviations[j];
        s += Math.max(-3, Math.min(3, z)) * m.weights[j];
      }
      return s;
    };
    const g = applyPreprocessing(guest, bank.preprocessing!);
    const h = applyPreprocessing(host, clinic.preprocessing!);
    out.scores.forEach(({ id, score }) => {
      const expected = sigmoid(logit(bank, g, 6, guest.ids.indexOf(id)) + logit(clinic, h, 22, host.ids.indexOf(id)));
      expect(score).toBeCloseTo(expected, 10);
    });
  }, 300_000);
});
