/**
 * A pipeline, the coordinator's side (docs/protocol.md §6): one job, one alignment, the steps in
 * order, each step's output feeding the next:
 *   statistics  every party's shared statistics (their missing rates feed selection)
 *   binning     WOE/IV per bin at each owner (the coordinator gets what `binning.share` says)
 *   selection   the kept columns per party, from IV and missing rate
 *   split-lr    each party WOE-encodes its kept columns (pipe.encode), then split LR as usual
 *   scorecard   points per bin at each owner; the validation rows' scores, totalled at the label party
 * Each step's state (pending, running, succeeded, failed, skipped) is in the result and the progress.
 */
import type { z } from 'zod';
import { BFV_N4096_T58 } from '@vfl/crypto';
import { runBinning, PartyBinning } from '../binning/strategy';
import type { Datasets } from '../job/job-types';
import type { JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
import { SelectedColumn, selectColumns, selectionSettings } from '../selection/select-columns';
import { splitLrStrategy, SplitLrJobResult } from '../split-lr/strategy';
import { collectStatistics, PartyStatistics } from '../statistics/strategy';
import { COORDINATOR_ID } from '../wire/roster';
import * as pipe from './commands';
import { PIPELINE } from './party-handlers';
import { binningSettings } from '../binning/settings';
import { statisticsSettings } from '../statistics/settings';
import { checkedSteps, PipelinePartySettings, PipelineStep, scorecardSettings, ScorecardSettings } from './settings';

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface PipelineStepReport {
  readonly step: PipelineStep;
  state: StepState;
  seconds?: number;
  error?: string;
}

export interface ScorecardReport {
  readonly scale: ScorecardSettings;
  readonly factor: number;
  readonly offset: number;
  /** Points per bin stay with each feature's owner; this counts them. */
  readonly features: Record<string, number>;
  /** The validation rows' scores, totalled by the label party: their AUC (higher score, lower risk). */
  readonly validationRows: number;
  readonly validationAuc: number;
  readonly meanScore: number;
}

export interface PipelineJobResult {
  readonly model: 'pipeline';
  readonly intersection: number;
  readonly steps: readonly PipelineStepReport[];
  readonly statistics?: readonly PartyStatistics[];
  readonly binning?: readonly PartyBinning[];
  readonly selection?: readonly SelectedColumn[];
  readonly splitLr?: Omit<SplitLrJobResult, 'manifest' | 'datasets'>;
  readonly scorecard?: ScorecardReport;
  readonly manifest: ModelManifest;
  readonly he: string;
  readonly datasets: Datasets;
}

interface PipelineSpec {
  readonly pipeline?: readonly unknown[];
  readonly statistics?: unknown;
  readonly binning?: unknown;
  readonly selection?: unknown;
  readonly scorecard?: unknown;
}

/** Each step's settings, checked; the error names the step and field. */
function settingsOf(spec: PipelineSpec & { readonly hyperparameters: unknown }) {
  const parse = <T>(step: string, schema: z.ZodType<T>, value: unknown): T => {
    const r = schema.safeParse(value ?? {});
    if (!r.success)
      throw new RangeError(
        `pipeline step ${step}: ${r.error.issues.map((i) => `${i.path.map(String).join('.') || '(settings)'}: ${i.message}`).join('; ')}`,
      );
    return r.data;
  };
  return {
    steps: checkedSteps(spec.pipeline),
    statistics: parse('statistics', statisticsSettings, spec.statistics),
    binning: parse('binning', binningSettings, spec.binning),
    selection: parse('selection', selectionSettings, spec.selection),
    scorecard: parse('scorecard', scorecardSettings, spec.scorecard),
  };
}

export const pipelineStrategy: JobStrategy<PipelineJobResult> = {
  model: PIPELINE,
  alignment: 'intersection',
  check(spec) {
    settingsOf(spec);
    if (spec.resume) throw new RangeError('a pipeline does not resume: run it again');
  },
  // One split for every step: WOE is fitted on the training rows that split LR trains on.
  dataSettings: ({ hyperparameters: hp }) => ({
    validationFraction: hp.validationFraction,
    seed: hp.seed,
    clipSigma: 0,
    batchSize: hp.batchSize,
  }),
  settings(spec): PipelinePartySettings {
    const s = settingsOf(spec);
    return {
      steps: s.steps,
      statistics: s.statistics,
      binning: s.binning,
      scorecard: s.scorecard,
      hyperparameters: spec.hyperparameters,
    };
  },
  async run(ctx) {
    const s = settingsOf(ctx.spec);
    const { jobId } = ctx.spec;
    const reports: PipelineStepReport[] = s.steps.map((step) => ({ step, state: 'pending' }));
    const out: {
      statistics?: PartyStatistics[];
      binning?: PartyBinning[];
      selection?: SelectedColumn[];
      splitLr?: SplitLrJobResult;
      scorecard?: ScorecardReport;
    } = {};
    const run = async (step: PipelineStep, body: () => Promise<void>) => {
      const report = reports.find((r) => r.step === step)!;
      report.state = 'running';
      ctx.progress({ phase: 'training', step, steps: reports.map((r) => ({ ...r })) });
      const started = Date.now();
      try {
        await body();
        report.state = 'succeeded';
      } catch (e) {
        report.state = 'failed';
        report.error = e instanceof Error ? e.message : String(e);
        for (const r of reports) if (r.state === 'pending') r.state = 'skipped';
        throw new PipelineStepError(step, e);
      } finally {
        report.seconds = (Date.now() - started) / 1000;
        await ctx.audit({ step: 'pipe.step', sender: COORDINATOR_ID, detail: { step, state: report.state } });
      }
    };
    await ctx.phase('training');
    for (const step of s.steps) {
      if (step === 'statistics') await run(step, async () => void (out.statistics = await collectStatistics(ctx)));
      if (step === 'binning')
        await run(step, async () => {
          await everyParty(ctx, (c) => ctx.call(c, pipe.stage, { jobId, stage: 'binning' }));
          out.binning = (await runBinning(ctx, s.binning)).parties;
        });
      if (step === 'selection')
        await run(step, async () => {
          out.selection = selection(ctx, out.binning!, out.statistics, s.selection);
        });
      if (step === 'split-lr') await run(step, async () => void (out.splitLr = await woeSplitLr(ctx, out.selection)));
      if (step === 'scorecard') await run(step, async () => void (out.scorecard = await scorecard(ctx, s.scorecard)));
    }
    const manifest = await ctx.exportModel({ model: PIPELINE });
    const splitLr = out.splitLr ? withoutManifest(out.splitLr) : undefined;
    return {
      model: 'pipeline',
      intersection: ctx.alignment.intersection,
      steps: reports,
      ...(out.statistics ? { statistics: out.statistics } : {}),
      ...(out.binning ? { binning: out.binning } : {}),
      ...(out.selection ? { selection: out.selection } : {}),
      ...(splitLr ? { splitLr } : {}),
      ...(out.scorecard ? { scorecard: out.scorecard } : {}),
      manifest,
      he: BFV_N4096_T58.name,
      datasets: ctx.datasets,
    };
  },
};

/** A step failed: the message names it. */
export class PipelineStepError extends Error {
  constructor(
    readonly step: PipelineStep,
    cause: unknown,
  ) {
    super(`pipeline step ${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PipelineStepError';
  }
}

function everyParty<T>(ctx: JobContext, f: (c: JobContext['label']) => Promise<T>): Promise<T[]> {
  return Promise.all([ctx.label, ...ctx.features].map(f));
}

function selection(
  ctx: JobContext,
  binning: readonly PartyBinning[],
  statistics: readonly PartyStatistics[] | undefined,
  settings: ReturnType<typeof selectionSettings.parse>,
): SelectedColumn[] {
  const candidates = binning.flatMap((p) => {
    if (p.features.length === 0)
      throw new RangeError(`party ${p.partyId} shares no IV (binning.share is "none"), so nothing can be selected`);
    const stats = statistics?.find((s) => s.partyId === p.partyId)?.columns;
    return p.features.map((f) => ({
      partyId: p.partyId,
      column: f.column,
      index: f.index,
      iv: f.iv,
      ...(stats?.[f.index]?.missingRate !== undefined ? { missingRate: stats[f.index].missingRate } : {}),
    }));
  });
  return selectColumns(
    candidates,
    settings,
    [ctx.label, ...ctx.features].map((c) => c.partyId),
  );
}

/** Each party WOE-encodes its kept columns (all of them without a selection step), then split LR trains on them. */
async function woeSplitLr(ctx: JobContext, selected: readonly SelectedColumn[] | undefined): Promise<SplitLrJobResult> {
  const { jobId } = ctx.spec;
  const prepared = new Map(ctx.prepared);
  await everyParty(ctx, async (c) => {
    const all = Array.from({ length: ctx.prepared.get(c.partyId)!.columnNames.length }, (_, j) => j);
    const columns = selected ? selected.filter((s) => s.partyId === c.partyId && s.kept).map((s) => s.index) : all;
    const reply = await ctx.call(c, pipe.encode, { jobId, columns });
    const before = ctx.prepared.get(c.partyId)!;
    prepared.set(c.partyId, { ...before, columns: reply.columns + (c === ctx.label ? 1 : 0) });
    await ctx.call(c, pipe.stage, { jobId, stage: 'split-lr' });
  });
  const result = await splitLrStrategy.run({ ...ctx, prepared });
  // WOE encodes against a binary label: the pipeline's jobs have no other objective.
  if ('objective' in result) throw new RangeError(`a WOE pipeline trains a binary label, not ${result.objective}`);
  return result;
}

async function scorecard(ctx: JobContext, scale: ScorecardSettings): Promise<ScorecardReport> {
  const { jobId } = ctx.spec;
  const features: Record<string, number> = {};
  await everyParty(ctx, async (c) => {
    features[c.partyId] = (await ctx.call(c, pipe.scorecard, { jobId })).features;
  });
  await Promise.all(ctx.features.map((f) => ctx.call(f, pipe.scoreRows, { jobId })));
  const scored = await ctx.call(ctx.label, pipe.scoreRows, { jobId });
  const factor = scale.pdo / Math.LN2;
  return {
    scale,
    factor,
    offset: scale.baseScore - factor * Math.log(scale.baseOdds),
    features,
    validationRows: scored.rows,
    validationAuc: scored.auc ?? NaN,
    meanScore: scored.meanScore ?? NaN,
  };
}

function withoutManifest(r: SplitLrJobResult): Omit<SplitLrJobResult, 'manifest' | 'datasets'> {
  const { manifest: _m, datasets: _d, ...rest } = r;
  void _m;
  void _d;
  return rest;
}
