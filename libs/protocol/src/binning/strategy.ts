/**
 * WOE binning, the coordinator's side (docs/protocol.md §6). After alignment it makes the job's
 * BFV keys and sends every party the public key (each party bins its own columns), then:
 *   1. label party:          bin.labels   (Enc(y) of the training rows go to every feature party)
 *   2. every feature party:  bin.sums     (masked Enc(per-bin events); the masks stay with it)
 *   3. coordinator decrypts each sum once, bin.release: the output coefficients, still masked, to their owner
 *   4. every party:          bin.tables   (what the job shares of its WOE and IV)
 * It decrypts only masked sums and releases each to the party that masked it.
 */
import { BfvKeyHolder, BfvContext, BFV_N4096_T21 } from '@vfl/crypto';
import * as job from '../job/commands';
import type { Datasets } from '../job/job-types';
import type { JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
import { packCiphertexts, publicBundleBytes, publicBundleDigest } from '../wire/codec';
import { COORDINATOR_ID } from '../wire/roster';
import * as bin from './commands';
import { BINNING } from './party-handlers';
import { binningSettings, BinningSettings, countedBins } from './settings';
import { countingLayout, featureGroups, releasedOutputs } from './woe-counting';

export interface PartyBinning {
  readonly partyId: string;
  /** Per feature, what its owner shares (settings.share). */
  readonly features: readonly bin.SharedFeature[];
}

export interface BinningJobResult {
  readonly model: 'binning';
  readonly intersection: number;
  readonly trainRows: number;
  readonly settings: BinningSettings;
  /** The IV table (and, with share `woe`, WOE per bin) per party. */
  readonly parties: readonly PartyBinning[];
  readonly manifest: ModelManifest;
  readonly he: string;
  readonly decryptions: number;
  readonly seconds: number;
  readonly datasets: Datasets;
}

export function binningSettingsOf(spec: { readonly binning?: unknown }): BinningSettings {
  const parsed = binningSettings.safeParse(spec.binning ?? {});
  if (!parsed.success)
    throw new RangeError(
      `binning: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * The binning protocol on a prepared, aligned job whose parties hold binning settings: the step a
 * binning job and a pipeline run. Returns every party's shared tables and the decryptions made.
 */
export async function runBinning(
  ctx: JobContext,
  settings: BinningSettings,
): Promise<{ parties: PartyBinning[]; decryptions: number }> {
  const { jobId } = ctx.spec;
  const bfv = await BfvContext.create(BFV_N4096_T21);
  const keys = BfvKeyHolder.generate(bfv);
  let decryptions = 0;
  try {
    const bundle = {
      parameterSet: BFV_N4096_T21.name,
      publicKey: keys.publicKey(),
      galoisKeys: new Uint8Array(0),
      galoisSteps: [],
    };
    for (const c of [ctx.label, ...ctx.features]) {
      await ctx.call(c, job.heKeys, { jobId, bundle });
      await ctx.audit({
        step: 'he.keys',
        sender: COORDINATOR_ID,
        receiver: c.partyId,
        byteSize: publicBundleBytes(bundle),
        messageDigest: publicBundleDigest(bundle),
        detail: { parameterSet: bundle.parameterSet, scheme: 'bfv', packing: 'coefficients' },
      });
    }
    // Counts are exact below t (about 2^21): far beyond any bin of a job that fits one process.
    if (ctx.alignment.trainRows >= Number(bfv.plainModulus))
      throw new RangeError(`binning counts up to ${bfv.plainModulus} training rows, got ${ctx.alignment.trainRows}`);
    const layout = countingLayout(bfv.degree, countedBins(settings), ctx.alignment.trainRows);
    await ctx.call(ctx.label, bin.encryptLabels, { jobId });
    await Promise.all(
      ctx.features.map(async (f) => {
        const { sums } = await ctx.call(f, bin.maskedSums, { jobId });
        await ctx.message('bin.masked_sums', f.partyId, COORDINATOR_ID, packCiphertexts(sums), { count: sums.length });
        const groups = featureGroups(layout, ctx.prepared.get(f.partyId)!.columns);
        if (sums.length !== groups.length)
          throw new RangeError(`${f.partyId} returned ${sums.length} sums, not the layout's ${groups.length}`);
        const released = sums.map((bytes, k) => {
          const { coefficients } = keys.decrypt(bytes, `${f.partyId} sum ${k}`);
          decryptions++;
          return releasedOutputs(layout, groups[k].length, coefficients);
        });
        await ctx.message('bin.released', COORDINATOR_ID, f.partyId, packCiphertexts(released), {
          count: released.length,
        });
        await ctx.call(f, bin.release, { jobId, released });
      }),
    );
    const parties = await Promise.all(
      [ctx.label, ...ctx.features].map(async (c) => {
        const { features } = await ctx.call(c, bin.tables, { jobId });
        await ctx.audit({
          step: 'bin.shared',
          sender: c.partyId,
          receiver: COORDINATOR_ID,
          detail: { features: features.length, share: settings.share },
        });
        return { partyId: c.partyId, features };
      }),
    );
    return { parties, decryptions };
  } finally {
    keys.dispose();
    bfv.dispose();
  }
}

export const binningStrategy: JobStrategy<BinningJobResult> = {
  model: BINNING,
  alignment: 'intersection',
  check: (spec) => void binningSettingsOf(spec),
  dataSettings(spec) {
    const s = binningSettingsOf(spec);
    // Bins are fitted on the values as read: no clipping; nothing is batched.
    return { validationFraction: s.validationFraction, seed: s.seed, clipSigma: 0, batchSize: 1024 };
  },
  settings: (spec) => binningSettingsOf(spec),
  async run(ctx) {
    const started = Date.now();
    const settings = binningSettingsOf(ctx.spec);
    await ctx.phase('training');
    ctx.progress({ phase: 'training' });
    const { parties, decryptions } = await runBinning(ctx, settings);
    const manifest = await ctx.exportModel({ model: BINNING });
    return {
      model: 'binning',
      intersection: ctx.alignment.intersection,
      trainRows: ctx.alignment.trainRows,
      settings,
      parties,
      manifest,
      he: BFV_N4096_T21.name,
      decryptions,
      seconds: (Date.now() - started) / 1000,
      datasets: ctx.datasets,
    };
  },
};
