/**
 * A pipeline at a party: one job whose steps use the models' own commands (stats.*, bin.*, lr.*)
 * on the same aligned rows, plus the pipeline's (commands.ts). Its hooks hand he.keys to the step
 * the coordinator staged (binning's BFV or split LR's CKKS) and split LR's epoch hooks to split LR;
 * export keeps every step's output as one model.
 */
import { rocAuc } from '@vfl/ml';
import { BINNING_SETTINGS, BINNING_STATE, binningHooks } from '../binning/party-handlers';
import type { ColumnBinning } from '../binning/feature-bins';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey } from '../party/party-job';
import { onJobCommand, onPeer, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import type { StoredPartyModel } from '../party/stored-model';
import { splitLrHooks, splitLrWeights } from '../split-lr/party-handlers';
import type { ColumnStatistics } from '@vfl/ml';
import { keptStatistics, STATISTICS_SETTINGS } from '../statistics/party-handlers';
import { bytesToF64, f64ToBytes } from '../wire/codec';
import { checked } from '../wire/command';
import * as pipe from './commands';
import { pipelinePartySettings, PipelinePartySettings } from './settings';
import { encodeWoeFeatures, partyScorecard, PartyScorecard, rowPoints, rowTotals, WoeFeatures } from './woe-features';
import { savedPartBase } from '../party/saved-part';

export const PIPELINE = 'pipeline';

const SETTINGS = new JobSlot<PipelinePartySettings>('pipeline settings');
const STAGE = new JobSlot<'binning' | 'split-lr'>('pipeline stage', 'no stage yet (pipe.stage not received)');
const FEATURES = new JobSlot<WoeFeatures>('WOE features', 'no WOE features yet (pipe.encode not run)');
const SCORECARD = new JobSlot<PartyScorecard>('scorecard', 'no scorecard yet (score.card not run)');
const totalsKey = (from: string) => mailKey<Float64Array>('score.totals', from);

/** What a party keeps of a pipeline: each step's output that concerns it. */
export interface PipelinePartyModel extends StoredPartyModel {
  readonly family: 'pipeline';
  readonly steps: readonly string[];
  readonly statistics?: ColumnStatistics[];
  readonly binning?: ColumnBinning[];
  /** The columns split LR used (WOE-encoded), its weights on their standardised WOE (intercept last at the label party). */
  readonly woeColumns?: string[];
  readonly weights?: number[];
  readonly scorecard?: PartyScorecard;
}

const binning = binningHooks((job) => job.get(BINNING_SETTINGS));

function delegate<K extends keyof PartyModelHooks>(name: K): NonNullable<PartyModelHooks[K]> {
  const h = splitLrHooks[name];
  if (!h) throw new RangeError(`split LR has no ${name} hook`);
  return h;
}

const hooks: PartyModelHooks = {
  missingValues: true,
  prepare(job, raw, node) {
    const s = checked(pipelinePartySettings, raw, `job ${job.id}: pipeline`);
    job.set(SETTINGS, s);
    job.set(STATISTICS_SETTINGS, s.statistics);
    job.set(BINNING_SETTINGS, s.binning);
    if (s.steps.includes('split-lr')) delegate('prepare')(job, s.hyperparameters, node);
  },
  async installKeys(job, bundle, widths, node) {
    const stage = job.get(STAGE);
    if (stage === 'binning') return binning.installKeys!(job, bundle, widths, node);
    return delegate('installKeys')(job, bundle, widths, node);
  },
  checkpoint: (...a) => delegate('checkpoint')(...a),
  resumeProblems: () => ['a pipeline does not resume'],
  baselineHyperparameters: (job) => delegate('baselineHyperparameters')(job),
  snapshot: (job) => delegate('snapshot')(job),
  restore: (job) => delegate('restore')(job),
  exportModel(job, node): PipelinePartyModel {
    const s = job.get(SETTINGS);
    const features = job.find(FEATURES);
    const card = job.find(SCORECARD);
    const stats = keptStatistics(job);
    return {
      // Its standardisation is of the model's inputs: the standardised WOE of the kept columns once encoded.
      ...savedPartBase(job, node.partyId, { clipSigma: 0 }),
      family: 'pipeline',
      steps: s.steps,
      ...(stats ? { statistics: stats } : {}),
      ...(job.find(BINNING_STATE)?.tables ? { binning: job.get(BINNING_STATE).finished() } : {}),
      ...(features && job.find(STAGE) === 'split-lr'
        ? { woeColumns: job.requireAligned().columnNames, weights: Array.from(splitLrWeights(job)) }
        : {}),
      ...(card ? { scorecard: card } : {}),
    };
  },
};

export const pipelineHandlers: PartyHandlerGroup = {
  model: PIPELINE,
  hooks,
  commands: [
    onJobCommand(pipe.stage, ({ stage }, job) => {
      if (!job.get(SETTINGS).steps.includes(stage)) throw new PartyError(`pipe.stage: this pipeline runs no ${stage}`);
      job.set(STAGE, stage);
      return {};
    }),
    onJobCommand(pipe.encode, ({ columns }, job) => {
      if (job.find(FEATURES)) throw new PartyError('pipe.encode: the features are already WOE-encoded');
      const tables = job.get(BINNING_STATE).finished();
      job.set(FEATURES, encodeWoeFeatures(job, tables, columns));
      return { columns: columns.length };
    }),
    onJobCommand(pipe.scorecard, (_, job) => {
      const card = partyScorecard(job, job.get(FEATURES), splitLrWeights(job), job.get(SETTINGS).scorecard);
      job.set(SCORECARD, card);
      return { features: card.features.length };
    }),
    onJobCommand(pipe.scoreRows, async (_, job, call) => {
      const features = job.get(FEATURES);
      const card = job.get(SCORECARD);
      const rows = job.rows('validation');
      const own = rowTotals(rowPoints(features, card, rows), features.kept.length);
      if (job.role === 'feature') {
        await call.send(job, job.labelParty(), pipe.pointTotals, { totals: f64ToBytes(own) });
        return { rows: rows.length };
      }
      const scores = Float64Array.from(own, (v) => v + card.base!);
      for (const f of job.featureParties()) {
        const theirs = job.take(totalsKey(f.partyId));
        if (theirs.length !== rows.length) throw new PartyError(`${f.partyId} sent points for other rows`);
        theirs.forEach((v, i) => (scores[i] += v));
      }
      const labels = job.requireAligned().labels!;
      const auc = rocAuc(
        Array.from(scores, (s) => -s),
        Array.from(rows, (r) => labels[r]),
      );
      return { rows: rows.length, auc, meanScore: scores.reduce((s, v) => s + v, 0) / Math.max(1, scores.length) };
    }),
  ],
  peers: [
    onPeer(pipe.pointTotals, (body, job, from) => job.put(totalsKey(from), bytesToF64(body.totals, 'point totals'))),
  ],
};
