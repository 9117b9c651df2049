/**
 * A whole pipeline in one process on breast cancer: statistics → binning → selection → split LR on
 * WOE features → scorecard. Every step succeeds and feeds the next; each applicant's points add up
 * to the model's logit mapped through PDO (≤ 1e-6), computed from what each party kept; the label
 * party's totals rank the validation rows as the model does; no label, cell or per-bin points of
 * the feature party cross the wire. Bad pipelines are refused naming the step.
 */
import * as path from 'node:path';
import { loadPartyTable, selectRows } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, scorecardFactor, woeEncodeColumn } from '@vfl/ml';
import { randomUUID } from 'node:crypto';
import { isPipelineResult, PipelineJobResult, PipelinePartyModel, runInProcessJob, SplitLrPrediction } from '../src';
import type { InProcessFederation, JobSpec } from '../src';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const hyperparameters = { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 8, batchSize: 128, learningRate: 0.05 };

function runPipeline(settings: Partial<JobSpec>) {
  return runInProcessJob({
    dataRoot: SHARED,
    model: 'pipeline',
    settings,
    hyperparameters,
    ckksThreads: 0,
    label: { partyId: 'bank', file: 'breast_hetero_guest.csv', labelColumn: 'y' },
    features: [{ partyId: 'shop', file: 'breast_hetero_host.csv' }],
  });
}

describe('pipeline: statistics → binning → selection → split-lr → scorecard', () => {
  let federation: InProcessFederation;
  let result: PipelineJobResult;
  const saved = (party: string) => federation.saved.get(`${result.manifest.jobId}:${party}`) as PipelinePartyModel;

  beforeAll(async () => {
    const run = await runPipeline({
      pipeline: ['statistics', 'binning', 'selection', 'split-lr', 'scorecard'],
      selection: { minIv: 0.1, topKPerParty: 6 },
    });
    if (!isPipelineResult(run.result)) throw new Error('not a pipeline result');
    federation = run.federation;
    result = run.result;
  }, 300_000);

  it('runs every step, each feeding the next', () => {
    expect(result.steps.map((s) => [s.step, s.state])).toEqual([
      ['statistics', 'succeeded'],
      ['binning', 'succeeded'],
      ['selection', 'succeeded'],
      ['split-lr', 'succeeded'],
      ['scorecard', 'succeeded'],
    ]);
    const kept = result.selection!.filter((c) => c.kept);
    expect(kept.filter((c) => c.partyId === 'shop')).toHaveLength(6);
    expect(saved('shop').woeColumns).toEqual(kept.filter((c) => c.partyId === 'shop').map((c) => c.column));
    expect(result.splitLr!.validation.auc).toBeGreaterThan(0.95);
    // A higher score is a lower risk: the label party's totals rank the rows as the model's logits do.
    expect(result.scorecard!.validationAuc).toBeCloseTo(result.splitLr!.validation.auc, 9);
    expect(result.scorecard!.features).toEqual({
      bank: kept.filter((c) => c.partyId === 'bank').length,
      shop: 6,
    });
  });

  /** Every row's score from the parties' kept scorecards, and its logit from their kept weights (label party's ID order). */
  async function referenceScores() {
    const g = await loadPartyTable(path.join(SHARED, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const h = selectRows(await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv')), g.ids);
    const logits = new Float64Array(g.ids.length);
    const scores = new Float64Array(g.ids.length);
    for (const [party, table] of [
      ['bank', g],
      ['shop', h],
    ] as const) {
      const m = saved(party);
      const width = table.featureNames.length;
      const card = m.scorecard!;
      if (party === 'bank') {
        logits.fill(m.weights![m.woeColumns!.length]);
        scores.fill(card.base!);
      }
      m.woeColumns!.forEach((name, q) => {
        const j = table.featureNames.indexOf(name);
        const b = m.binning![j];
        const column = Float64Array.from({ length: g.ids.length }, (_, r) => table.features[r * width + j]);
        const woe = woeEncodeColumn(
          column,
          b.thresholds,
          b.table.bins.map((x) => x.woe),
        );
        const { means, deviations } = m.standardization;
        woe.forEach((w, r) => {
          logits[r] += (m.weights![q] * (w - means[q])) / deviations[q];
          const bin = b.thresholds.filter((t) => t < column[r]).length;
          scores[r] += card.features[q].points[bin];
        });
      });
    }
    return { ids: g.ids, logits, scores };
  }

  it("sums each applicant's points to offset − factor·logit (≤ 1e-6), from what each party kept", async () => {
    const { factor, offset } = scorecardFactor(result.scorecard!.scale);
    const { logits, scores } = await referenceScores();
    let worst = 0;
    scores.forEach((s, r) => (worst = Math.max(worst, Math.abs(s - (offset - factor * logits[r])))));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it("scores applicants through predict: each score is the sum of both parties' points", async () => {
    const { ids, scores } = await referenceScores();
    const wanted = ids.slice(0, 60);
    const predicted = await new SplitLrPrediction(
      {
        predictionId: randomUUID(),
        modelJobId: result.manifest.jobId,
        parties: [
          { partyId: 'bank', role: 'label' },
          { partyId: 'shop', role: 'feature' },
        ],
        manifest: result.manifest,
        ids: wanted,
      },
      federation.channels,
      async () => undefined,
    ).run();
    expect(predicted.scores.map((s) => s.id)).toEqual(wanted);
    predicted.scores.forEach((s, k) => expect(Math.abs(s.score - scores[k])).toBeLessThanOrEqual(1e-9));
  });

  it("keeps labels, cells and the feature party's points per bin off the wire", async () => {
    const scan = new WireScanner(federation.wire);
    const g = await loadPartyTable(path.join(SHARED, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const h = await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv'));
    const cells = [...g.features, ...h.features].filter((v) => v !== 0 && v !== 1);
    expect(scan.float64(cells)).toEqual([]);
    for (let start = 0; start + 24 <= g.labels!.length; start += 24)
      expect(scan.bytes(g.labels!.subarray(start, start + 24))).toEqual([]);
    const points = saved('shop').scorecard!.features.flatMap((f) => f.points);
    expect(points.length).toBeGreaterThan(6);
    expect(scan.float64(points)).toEqual([]);
    // Positive control: the shop's per-row totals do reach the label party (peer.score.totals).
    expect(federation.wire.some((m) => m.kind === 'peer.score.totals' && m.from === 'shop')).toBe(true);
  });
});

describe('pipeline refusals', () => {
  it('names a step that uses the output of a step the pipeline does not run', async () => {
    await expect(runPipeline({ pipeline: ['statistics', 'selection'] })).rejects.toThrow(
      'pipeline[1]: step "selection" uses the output of step "binning", which the pipeline does not run',
    );
    await expect(runPipeline({ pipeline: ['binning', 'scorecard'] })).rejects.toThrow(
      'pipeline[1]: step "scorecard" uses the output of step "split-lr", which the pipeline does not run',
    );
    await expect(runPipeline({ pipeline: ['binning', 'statistics'] })).rejects.toThrow(
      'pipeline[1]: step "statistics" cannot come after "binning"',
    );
    await expect(runPipeline({ pipeline: ['bining'] })).rejects.toThrow('pipeline[0]: unknown step "bining"');
    await expect(runPipeline({ pipeline: ['binning'], binning: { maxBins: 0 } })).rejects.toThrow(
      /^pipeline step binning: maxBins: /,
    );
  });

  it('names the selection step when it keeps nothing of a party', async () => {
    await expect(
      runPipeline({ pipeline: ['binning', 'selection', 'split-lr'], selection: { minIv: 50 } }),
    ).rejects.toThrow(/^pipeline step selection failed: selection keeps no column of party bank: its highest IV is/);
  }, 120_000);
});
