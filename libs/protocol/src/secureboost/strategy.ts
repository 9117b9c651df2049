/**
 * SecureBoost, the coordinator's side (docs/protocol.md §5). After alignment it makes the job's
 * BFV keys, sends every party the public key, and drives each tree level by level:
 *   1. label party:          sb.gradients   (Enc(g, h) of the nodes to build go to the feature parties)
 *   2. every feature party:  sb.histograms  (returns masked Enc(bin sums); its masks go to the label party)
 *   3. coordinator decrypts each announced sum once and hands the masked bin sums to the label party
 *   4. label party:          sb.split       (unmasks, splits; owners partition their nodes)
 * then sb.tree_end (scores, validation metrics, early stopping). It decrypts only masked sums.
 * A regression job (objective `regression`) boosts squared error on the label party's continuous
 * target: the same rounds, with RMSE, MAE and R² where a binary job reports AUC.
 */
import type { z } from 'zod';
import { BfvContext, BfvKeyHolder, BFV_N4096_T58 } from '@vfl/crypto';
import type { BinaryMetrics, RegressionMetrics } from '@vfl/ml';
import { agreedCheckpointRecord } from '../job/checkpoint-record';
import * as job from '../job/commands';
import { type DetailedMetrics, epochFigures, isTargetMetrics } from '../job/evaluation';
import type { TargetJobResult } from '../job/target-result';
import type { Datasets, EarlyStoppingReport, EpochReport, JobSpec } from '../job/job-types';
import type { JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
import { packedCiphertextsDigest, publicBundleBytes, publicBundleDigest } from '../wire/codec';
import { u64ToBytes } from './bytes';
import { COORDINATOR_ID } from '../wire/roster';
import * as sb from './commands';
import { sampledFeatures } from './label-party';
import { nodeLayout, outputPositions, productGroups } from './packing';
import { SECUREBOOST } from './party-handlers';
import { boosterParams, jobSecureBoostSettings, SecureBoostSettings } from './settings';
import type { AucUplift } from '../job/commands';

/** One tree's report: an epoch's (validation metrics, seconds), its leaves, loss and bytes. */
export type TreeReport<M = BinaryMetrics> = EpochReport<M> & Omit<z.output<typeof sb.treeReport>, 'validation'>;

/** What the boosting adds to either objective's result. */
interface Boosting {
  /**
   * Gain and split count per feature over the kept trees, most important first: the label party's
   * columns by name, a feature party's by position (only that party knows its names).
   */
  readonly importance: readonly z.output<typeof sb.importance.reply>['features'][number][];
  readonly trees: number;
  readonly keptTrees: number;
  readonly he: string;
  readonly decryptions: number;
  readonly bytesPerTree: number;
  readonly bytesPerTreeByLink: Record<string, number>;
}

/**
 * A regression job's result: a target job's (RMSE, MAE, R² for train, validation and the label
 * party's own boosted trees; one report per tree as an epoch) with the boosting's figures.
 */
export interface SecureBoostRegressionResult extends TargetJobResult, Omit<Boosting, 'decryptions'> {
  readonly model: 'secureboost';
  readonly decryptions: number;
  readonly objective: 'regression';
  readonly epochs: readonly TreeReport<RegressionMetrics>[];
}

export interface SecureBoostJobResult extends Boosting {
  readonly model: 'secureboost';
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly train: DetailedMetrics;
  readonly validation: DetailedMetrics;
  /** The same GBDT on the label party's features alone: the uplift baseline. */
  /** (No uplift interval yet: the label party's boosting baseline keeps no final validation scores to pair.) */
  readonly labelOnly: {
    readonly train: BinaryMetrics;
    readonly validation: BinaryMetrics;
    readonly uplift?: AucUplift;
  };
  /** One report per tree (as epochs, for the dashboard's charts). */
  readonly epochs: readonly TreeReport[];
  readonly manifest: ModelManifest;
  readonly datasets: Datasets;
}

/** The job's settings, the objective filled in from the job's (a contradicting one is refused). */
function settingsOf(spec: Pick<JobSpec, 'secureboost' | 'objective'>): SecureBoostSettings {
  return jobSecureBoostSettings(spec.secureboost ?? {}, spec.objective);
}

export const secureBoostStrategy: JobStrategy<SecureBoostJobResult | SecureBoostRegressionResult> = {
  model: SECUREBOOST,
  alignment: 'intersection',
  objectives: ['binary', 'regression'],
  check(spec) {
    settingsOf(spec);
    if (!spec.parties.some((p) => p.role === 'feature'))
      throw new RangeError('a secureboost job needs a feature party');
  },
  dataSettings(spec) {
    const s = settingsOf(spec);
    // Bins are quantiles, which standardising keeps and clipping would merge: no clipping.
    // Trees take no mini-batches (the batch size is unused).
    return {
      validationFraction: s.validationFraction,
      seed: s.seed,
      clipSigma: 0,
      batchSize: 1024,
      ...(spec.objective === 'regression' ? { objective: 'regression' as const } : {}),
    };
  },
  settings: (spec) => settingsOf(spec),

  async run(ctx) {
    const settings = settingsOf(ctx.spec);
    const params = boosterParams(settings);
    await ctx.phase('training');
    const bfv = await BfvContext.create(BFV_N4096_T58);
    const keys = BfvKeyHolder.generate(bfv);
    try {
      await sendKeys(ctx, keys);
      const decryptions = { count: 0 };
      const reports: TreeReport<BinaryMetrics | RegressionMetrics>[] = await resumedReports(ctx, params.trees);
      let traffic = { total: 0, byLink: {} as Record<string, number> };
      const { jobId } = ctx.spec;
      for (let tree = reports.length; tree < params.trees; tree++) {
        const started = Date.now();
        ctx.traffic.start();
        await ctx.call(ctx.label, sb.treeBegin, { jobId, tree });
        for (let depth = 0; depth < params.maxDepth; depth++) {
          const open = await level(ctx, keys, settings, tree, depth, decryptions);
          if (open === 0) break;
        }
        const end = await ctx.call(ctx.label, sb.treeEnd, { jobId, tree });
        traffic = ctx.traffic.take();
        const report: TreeReport<BinaryMetrics | RegressionMetrics> = {
          epoch: tree + 1,
          seconds: (Date.now() - started) / 1000,
          validation: end.validation,
          leaves: end.leaves,
          validationLoss: end.validationLoss,
          bytes: traffic.total,
        };
        reports.push(report);
        await ctx.audit({
          step: 'sb.tree',
          sender: COORDINATOR_ID,
          detail: {
            tree: tree + 1,
            leaves: end.leaves,
            ...epochFigures(end.validation),
            validationLoss: end.validationLoss,
          },
        });
        ctx.progress({ phase: 'training', epoch: tree + 1, epochs: params.trees, etaSeconds: null }, report);
        if (end.stop) break;
        // Every party keeps its state after this tree; a failed job resumes from here (POST /jobs/:id/resume).
        if (tree + 1 < params.trees) await ctx.checkpoint(tree + 1, { reports } satisfies sb.SbTrainingRecord);
      }
      await ctx.phase('evaluating');
      ctx.progress({ phase: 'evaluating' });
      const train = await ctx.call(ctx.label, sb.evaluate, { jobId, split: 'train', detailed: true });
      const validation = await ctx.call(ctx.label, sb.evaluate, { jobId, split: 'validation', detailed: true });
      const labelOnly = await ctx.call(ctx.label, sb.baseline, { jobId });
      const { features: importance, keptTrees } = await ctx.call(ctx.label, sb.importance, { jobId });
      // Each feature party counts its own columns' splits and keeps them, by name, in its own log.
      await Promise.all(ctx.features.map((f) => ctx.call(f, sb.ownImportance, { jobId, keptTrees })));
      const regression = ctx.spec.objective === 'regression';
      const manifest = await ctx.exportModel({
        model: SECUREBOOST,
        ...(regression ? { objective: 'regression' } : {}),
      });
      const { intersection, trainRows, validationRows } = ctx.alignment;
      const bytesPerTree = Math.round(reports.reduce((s, r) => s + r.bytes, 0) / Math.max(1, reports.length));
      const common = {
        model: 'secureboost' as const,
        intersection,
        trainRows,
        validationRows,
        importance,
        trees: reports.length,
        keptTrees,
        manifest,
        he: BFV_N4096_T58.name,
        decryptions: decryptions.count,
        bytesPerTree,
        bytesPerTreeByLink: traffic.byLink,
        datasets: ctx.datasets,
      };
      if (regression) {
        const target = (m: z.output<typeof sb.evaluate.reply>): RegressionMetrics => {
          if (!isTargetMetrics(m)) throw new TypeError('a secureboost regression job got binary metrics');
          return m;
        };
        return {
          ...common,
          objective: 'regression',
          train: target(train),
          validation: target(validation),
          labelOnly: { train: target(labelOnly.train), validation: target(labelOnly.validation) },
          epochs: reports.map((r) => ({ ...r, validation: target(r.validation) })),
          earlyStopping: earlyStoppingReport(settings, reports.length, keptTrees),
          backend: BFV_N4096_T58.name,
          bytesPerEpoch: bytesPerTree,
          bytesPerEpochByLink: traffic.byLink,
        };
      }
      const binary = (m: z.output<typeof sb.evaluate.reply>): BinaryMetrics => {
        if (isTargetMetrics(m)) throw new TypeError('a secureboost binary job got regression metrics');
        return m;
      };
      return {
        ...common,
        train: binary(train) as DetailedMetrics,
        validation: binary(validation) as DetailedMetrics,
        labelOnly: { train: binary(labelOnly.train), validation: binary(labelOnly.validation) },
        epochs: reports.map((r) => ({ ...r, validation: binary(r.validation) })),
      };
    } finally {
      keys.dispose();
      bfv.dispose();
    }
  },
};

/** Early stopping on the validation loss, as a target job reports it (null when off). */
function earlyStoppingReport(settings: SecureBoostSettings, trees: number, kept: number): EarlyStoppingReport | null {
  if (!settings.earlyStopping) return null;
  const stoppedEarly = trees < settings.trees;
  return {
    metric: 'loss',
    bestEpoch: kept,
    stoppedAtEpoch: trees,
    stoppedEarly,
    ...(stoppedEarly ? { reason: 'patience' as const } : {}),
  };
}

/** A resumed job: every party loads its checkpoint after `resume.epoch` trees; the reports of those trees. */
async function resumedReports(
  ctx: JobContext,
  trees: number,
): Promise<TreeReport<BinaryMetrics | RegressionMetrics>[]> {
  const resume = ctx.spec.resume;
  if (!resume) return [];
  if (!(Number.isInteger(resume.epoch) && resume.epoch >= 1 && resume.epoch < trees))
    throw new RangeError(`resume.epoch must be a tree count in [1, ${trees - 1}], got ${resume.epoch}`);
  const records = (await ctx.resumeRecords()).map((r) => (r === null ? null : sb.trainingRecord.parse(r)));
  const record = agreedCheckpointRecord(records, false, () => false);
  if (!record || record.reports.length !== resume.epoch)
    throw new RangeError(`the checkpoints do not hold the reports of ${resume.epoch} trees`);
  return record.reports;
}

/** Every party gets the BFV public key; the label party also the feature parties' widths. */
async function sendKeys(ctx: JobContext, keys: BfvKeyHolder): Promise<void> {
  const bundle = {
    parameterSet: BFV_N4096_T58.name,
    publicKey: keys.publicKey(),
    galoisKeys: new Uint8Array(0),
    galoisSteps: [],
  };
  const widths = Object.fromEntries(ctx.features.map((f) => [f.partyId, ctx.prepared.get(f.partyId)!.columns]));
  for (const c of [ctx.label, ...ctx.features]) {
    await ctx.call(c, job.heKeys, { jobId: ctx.spec.jobId, bundle, ...(c === ctx.label ? { widths } : {}) });
    await ctx.audit({
      step: 'he.keys',
      sender: COORDINATOR_ID,
      receiver: c.partyId,
      byteSize: publicBundleBytes(bundle),
      messageDigest: publicBundleDigest(bundle),
      detail: { parameterSet: bundle.parameterSet, scheme: 'bfv', packing: 'coefficients' },
    });
  }
}

/**
 * One level: the nodes to build, every feature party's masked sums, their decryption (only the
 * count the layout implies, each once), and the label party's split. Returns the nodes still open.
 */
async function level(
  ctx: JobContext,
  keys: BfvKeyHolder,
  settings: SecureBoostSettings,
  tree: number,
  depth: number,
  decryptions: { count: number },
): Promise<number> {
  const { jobId } = ctx.spec;
  const round = { jobId, tree, depth };
  const params = boosterParams(settings);
  const built = await ctx.call(ctx.label, sb.gradients, round);
  const expected = new Map(built.nodes.map((n) => [n.node, n.rows]));
  const released = await Promise.all(
    ctx.features.map(async (f, i) => {
      const { nodes } = await ctx.call(f, sb.histograms, round);
      const sent = nodes.flatMap((n) => n.sums);
      await ctx.message('sb.masked_sums', f.partyId, COORDINATOR_ID, packedCiphertextsDigest(sent), {
        tree,
        depth,
        count: sent.length,
      });
      const features = sampledFeatures(params, tree, i + 1, ctx.prepared.get(f.partyId)!.columns);
      if (nodes.length !== expected.size || nodes.some((n) => !expected.has(n.node)))
        throw new RangeError(`${f.partyId} returned sums for other nodes than the label party built`);
      return nodes.map((n) => {
        const layout = nodeLayout(keys.bfv.degree, params.maxBins, expected.get(n.node)!);
        const groups = productGroups(layout, features);
        if (n.sums.length !== groups.length)
          throw new RangeError(`${f.partyId}: node ${n.node} has ${n.sums.length} sums, not the layout's count`);
        const sums = n.sums.map((bytes, k) => {
          // A node's sums share its chunks and the first group is the widest: its noise budget bounds the others'.
          const what = `${f.partyId} node ${n.node} sum ${k}`;
          const { coefficients } = keys.decrypt(bytes, what, { checkNoise: k === 0 });
          decryptions.count++;
          // Only the bin sums' coefficients go on: the rest is (masked) cross terms no one needs.
          return u64ToBytes(BigUint64Array.from(outputPositions(layout, groups[k].length), (p) => coefficients[p]));
        });
        return { partyId: f.partyId, node: n.node, sums };
      });
    }),
  );
  const body = { ...round, released: released.flat() };
  const releasedBytes = packedCiphertextsDigest(body.released.flatMap((r) => r.sums));
  await ctx.message('sb.released', COORDINATOR_ID, ctx.label.partyId, releasedBytes, { tree, depth });
  const { open } = await ctx.call(ctx.label, sb.splitLevel, body);
  return open;
}
