/**
 * The coordinator's side of one split-LR job, top to bottom: the roster (each party's signing
 * key), alignment by PSI, key generation, the training rounds, evaluation. It talks to parties only through PartyChannel and records
 * every step and every message (digest and size, never content) through `audit`, awaiting each
 * write before moving on, so the protocol never runs ahead of its audit trail. A job with model
 * `psi-cardinality` stops after alignment: the label party counts, and the result is that count.
 *
 * One training round (mini-batch b of epoch e), as the coordinator drives it:
 *   1. every feature party: lr.forward    (sends Enc(u_f/4) to the label party)
 *   2. label party:        lr.residual   (sends Enc(d) to the feature parties; returns its masked Enc(gradient))
 *   3. every feature party: lr.gradient   (returns its masked Enc(gradient))
 *   4. coordinator decrypts each announced ciphertext once (masked, flooded, rounded)
 *   5. every party:        lr.update     (removes its mask, steps its optimizer)
 */
import type { AuditEventInput } from '../../../audit/src/audit-chain';
import { CkksContext } from '../../../crypto/src/ckks-context';
import { CkksEngine, createCkksEngine } from '../../../crypto/src/ckks-engine';
import { agreedCheckpointRecord } from './checkpoint-record';
import { CkksKeyHolder } from '../../../crypto/src/ckks-keys';
import type { LrHyperparameters } from '../../../ml/src/logistic';
import type { BinaryMetrics } from '../../../ml/src/metrics';
import { batchCount } from '../../../ml/src/batch-schedule';
import { gradientScale } from '../split-lr/split-lr-party';
import { digestHex, f64ToBytes, publicBundleBytes, publicBundleDigest } from '../wire/codec';
import type { Command } from '../wire/command';
import type { CommandResult, PartyChannel } from '../wire/party-channel';
import { COORDINATOR_ID, DataReference, PartyRole, RosterEntry } from '../wire/roster';
import type { IdRule } from '../../../data/src/id-normalisation';
import { failedAtOf } from '../party/party-error';
import type { DetailedMetrics } from './evaluation';
import * as job from './commands';
import * as psi from '../psi/commands';
import * as lr from '../split-lr/commands';
import type { LrTrainingRecord } from '../split-lr/commands';
import type { PrepareReply } from './commands';
import { DEFAULT_RELEASE_POLICY, MaskedDecryptionService, secureGaussian } from '../split-lr/masked-decryption';
import type { NnArchitecture } from '../../../ml/src/nn/architecture';
import { DefenceSpec, NO_DEFENCE } from '../split-nn/defence';
import { SplitNnTrainingResult, trainSplitNn } from '../split-nn/training';
import { ManifestPart, MODEL_MANIFEST_VERSION, ModelManifest, partModelSigningText } from '../model-manifest';
import { verifySignature } from '../../../crypto/src/signing-identity';

export { COORDINATOR_ID };

/** No batch may have fewer rows than this, nor fewer than twice the widest party's columns. */
export const MIN_BATCH_ROWS = 32;

export function minimumBatchRows(widestColumns: number): number {
  return Math.max(MIN_BATCH_ROWS, 2 * widestColumns);
}

export type { PartyChannel };

/** How every party normalises its IDs before PSI, and how PSI runs (docs/protocol.md §1). */
export interface AlignmentSpec {
  readonly idRules: readonly IdRule[];
  /** `cardinality`: the label party learns only how many IDs are shared; nobody learns which. */
  readonly output?: 'intersection' | 'cardinality';
  /** `unbalanced`: the smaller list's party does O(its size) group operations. Default `balanced`. */
  readonly mode?: 'balanced' | 'unbalanced';
  /** Unbalanced mode: the party with the small list; by default the one that reports fewer rows. */
  readonly smallParty?: string;
}

export interface JobPartySpec {
  readonly partyId: string;
  readonly role: PartyRole;
  readonly data: DataReference;
  /** The party's ed25519 public key when the coordinator's registry pins one. */
  readonly publicKey?: string;
}

export interface JobSpec {
  readonly jobId: string;
  /** `psi-cardinality`: a feasibility check that stops after alignment with the count only. */
  readonly model: 'split-lr' | 'psi-cardinality' | 'split-nn';
  /** `split-nn`: the architecture (bottom, interactive, top, training) and the label party's defence. */
  readonly nn?: { readonly architecture: NnArchitecture; readonly defence?: DefenceSpec };
  readonly parties: readonly JobPartySpec[];
  readonly hyperparameters: LrHyperparameters;
  readonly alignment?: AlignmentSpec;
  /** Continue an interrupted split-LR or split-NN job from its parties' checkpoints after `epoch` completed epochs. */
  readonly resume?: { readonly fromJobId: string; readonly epoch: number };
}

export type JobPhase = 'aligning' | 'training' | 'evaluating';

export interface JobProgress {
  readonly phase: JobPhase;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly batches?: number;
  readonly rowsProcessed?: number;
  readonly etaSeconds?: number | null;
  /** Alignment: element blindings done and to do, over all parties (each ID is blinded twice). */
  readonly elementsDone?: number;
  readonly elementsTotal?: number;
}

export interface EpochReport {
  readonly epoch: number;
  readonly seconds: number;
  readonly validation: BinaryMetrics;
}

/** How early stopping ended a job (null in a result when it was off). */
export interface EarlyStoppingReport {
  readonly metric: 'auc' | 'loss';
  /** The epoch whose model the job kept (1-based). */
  readonly bestEpoch: number;
  /** The last epoch trained. */
  readonly stoppedAtEpoch: number;
  readonly stoppedEarly: boolean;
  /** Why it stopped early: no improvement for `patience` epochs, or the loss diverged after the best epoch. */
  readonly reason?: 'patience' | 'diverged';
}

/** Training stopped because the loss blew up or became NaN; the message says where and what to change. */
export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** A validation loss this many times the first epoch's (or ln 2, if larger) counts as diverging. */
export const DIVERGENCE_LOSS_FACTOR = 3;

export interface SplitLrJobResult {
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  /** The final model: AUC, KS, log loss, confusion matrix at 0.5, gain/lift by decile, ROC and KS curves (≤ 101 points). */
  readonly train: DetailedMetrics;
  /** The same on the validation split, plus the score stability (PSI) against training scores. */
  readonly validation: DetailedMetrics;
  readonly labelOnly: { readonly train: BinaryMetrics; readonly validation: BinaryMetrics };
  readonly epochs: readonly EpochReport[];
  readonly earlyStopping: EarlyStoppingReport | null;
  /** Each party's signed model digest (the weights stay with the parties); the coordinator signs it when it stores the result. */
  readonly manifest: ModelManifest;
  readonly backend: string;
  readonly datasets: Record<string, { rows: number; columns: number; contentSha256: string; source: string }>;
  readonly decryptions: number;
  readonly bytesPerEpoch: number;
  /** The same per link, "from->to" (parties and the coordinator), in the last epoch. */
  readonly bytesPerEpochByLink: Record<string, number>;
}

/** A cardinality-only job's result: how many IDs the parties share, and nothing about which. */
export interface PsiCardinalityResult {
  readonly model: 'psi-cardinality';
  readonly intersection: number;
  readonly datasets: Record<string, { rows: number; columns: number; contentSha256: string; source: string }>;
}

/** A split-NN job's result: the same metrics as split LR, and what the defence cost in privacy terms. */
export interface SplitNnJobResult extends Omit<SplitNnTrainingResult, 'epochs'> {
  readonly model: 'split-nn';
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly epochs: readonly EpochReport[];
  /** The label party's logistic regression on its own features: the uplift baseline. */
  readonly labelOnly: { readonly train: BinaryMetrics; readonly validation: BinaryMetrics };
  /** Each party's signed digest of its own part (bottom; or bottom, top and interactive layer); the coordinator signs it when it stores the result. */
  readonly manifest: ModelManifest;
  readonly backend: string;
  readonly datasets: Record<string, { rows: number; columns: number; contentSha256: string; source: string }>;
}

export type JobResult = SplitLrJobResult | PsiCardinalityResult | SplitNnJobResult;

export function isSplitLrResult(result: JobResult): result is SplitLrJobResult {
  return typeof (result as { model?: unknown }).model !== 'string';
}

export function isSplitNnResult(result: JobResult): result is SplitNnJobResult {
  return (result as SplitNnJobResult).model === 'split-nn';
}

export interface JobHooks {
  audit(event: AuditEventInput): Promise<unknown>;
  phase(phase: JobPhase): Promise<void>;
  progress(progress: JobProgress, epoch?: EpochReport): void;
  /** Checked before every party command; returning true stops the job with JobCancelledError. */
  cancelled?(): boolean;
  /** Every party has checkpointed `epoch` completed epochs (split LR, split NN): a failed job can resume from here. */
  checkpointed?(epoch: number): Promise<void> | void;
}

/** The job was cancelled; raised at the next protocol step after the request. */
export class JobCancelledError extends Error {
  constructor() {
    super('job cancelled');
    this.name = 'JobCancelledError';
  }
}

/** A party's command failed: carries the party's name so users see where it happened. */
export class PartyCallError extends Error {
  constructor(
    readonly partyId: string,
    readonly command: string,
    message: string,
  ) {
    super(`${partyId} failed at ${command}: ${message}`);
    this.name = 'PartyCallError';
  }
}

export class JobRunner {
  private readonly label: PartyChannel;
  private readonly features: PartyChannel[];
  private bytesThisEpoch = 0;
  private bytesPerEpoch = 0;
  private readonly linkBytesThisEpoch = new Map<string, number>();
  private bytesPerEpochByLink: Record<string, number> = {};
  private decryptions = 0;

  constructor(
    private readonly spec: JobSpec,
    private readonly channels: ReadonlyMap<string, PartyChannel>,
    private readonly hooks: JobHooks,
    /** Worker threads for the coordinator's decryptions (default: one per core; 0: inline). */
    private readonly ckksThreads?: number,
  ) {
    const labels = spec.parties.filter((p) => p.role === 'label');
    const features = spec.parties.filter((p) => p.role === 'feature');
    if (labels.length !== 1) throw new RangeError(`a split-lr job needs exactly one label party, got ${labels.length}`);
    if (features.length < 1) throw new RangeError('a split-lr job needs at least one feature party');
    if (spec.model === 'psi-cardinality' && features.length !== 1) throw new RangeError(`a cardinality-only check takes exactly one feature party, got ${features.length}`);
    const mode = spec.alignment?.mode ?? 'balanced';
    if (mode !== 'balanced' && mode !== 'unbalanced') throw new RangeError(`alignment.mode must be "balanced" or "unbalanced", got "${String(mode).slice(0, 24)}"`);
    if (mode === 'unbalanced') {
      if (features.length !== 1) throw new RangeError(`unbalanced PSI takes exactly one feature party, got ${features.length}`);
      if (spec.model === 'psi-cardinality') throw new RangeError('a cardinality-only check runs in balanced mode');
      const small = spec.alignment?.smallParty;
      if (small !== undefined && !spec.parties.some((p) => p.partyId === small)) throw new RangeError(`alignment.smallParty "${String(small).slice(0, 64)}" is not a party of the job`);
    }
    this.label = this.channel(labels[0].partyId);
    this.features = features.map((f) => this.channel(f.partyId));
  }

  async run(): Promise<JobResult> {
    const { jobId, hyperparameters: hp } = this.spec;
    const cardinalityOnly = this.spec.model === 'psi-cardinality';
    const all = [this.label, ...this.features];
    let completed = false;
    try {
      await this.hooks.phase('aligning');
      this.hooks.progress({ phase: 'aligning' });
      // Each party presents its signing key; the roster binds every party to one key for the job.
      const roster: RosterEntry[] = await settleAll(
        this.spec.parties.map(async (p) => {
          const { publicKey } = await this.call(this.channel(p.partyId), job.health, {});
          if (p.publicKey && p.publicKey !== publicKey) {
            throw new PartyCallError(p.partyId, job.health.name, `presents signing key ${publicKey}, but the registry pins ${p.publicKey}`);
          }
          return { partyId: p.partyId, role: p.role, publicKey };
        }),
      );
      await this.hooks.audit({ step: 'job.roster', sender: COORDINATOR_ID, detail: { roster: roster.map((r) => ({ ...r })) } });
      const prepared = new Map<string, PrepareReply>();
      // allSettled, not all: every prepare must have finished before the final close, or a slow
      // one would register the job on its party after the close and keep its data there.
      await settleAll(
        this.spec.parties.map(async (p) => {
          const reply = await this.call(this.channel(p.partyId), job.prepare, {
            jobId, model: this.spec.model, role: p.role, data: p.data, roster,
            alignment: { idRules: [...(this.spec.alignment?.idRules ?? [])], output: cardinalityOnly ? 'cardinality' : 'intersection', mode: this.spec.alignment?.mode ?? 'balanced' },
            dataSettings: { validationFraction: hp.validationFraction, seed: hp.seed, clipSigma: hp.clipSigma ?? 0, batchSize: hp.batchSize },
            // Each model's own settings only: split NN its architecture and defence, split LR its hyperparameters.
            settings: this.spec.model === 'split-nn' ? this.spec.nn : this.spec.model === 'split-lr' ? hp : {},
          });
          prepared.set(p.partyId, reply);
          await this.hooks.audit({
            step: 'job.prepare', sender: p.partyId, receiver: COORDINATOR_ID,
            detail: { rows: reply.rows, columns: reply.columns, columnNames: reply.columnNames, contentSha256: reply.contentSha256, source: reply.source },
          });
        }),
      );

      const feature = this.features[0];
      // Unbalanced mode: the small side (named, or the one with fewer rows) queries, the big side streams tags.
      const unbalanced = this.spec.alignment?.mode === 'unbalanced' ? this.unbalancedSides(prepared) : undefined;
      if (unbalanced) {
        const { small, big } = unbalanced;
        await this.hooks.audit({ step: 'psi.plan', sender: COORDINATOR_ID, detail: { mode: 'unbalanced', small: small.partyId, big: big.partyId } });
        await Promise.all([
          this.call(small, psi.plan, { jobId, peer: big.partyId, side: 'small', peerRows: prepared.get(big.partyId)!.rows }),
          this.call(big, psi.plan, { jobId, peer: small.partyId, side: 'big', peerRows: prepared.get(small.partyId)!.rows }),
        ]);
      }
      const psiProgress = new PsiProgressPoller(jobId, all, this.hooks);
      try {
        // Every pair (label, feature) exchanges both ways; with several feature parties, the pairs run at once.
        // (Unbalanced: the small side's queries and the big side's tags, also at once.)
        await Promise.all(
          this.features.flatMap((f) => [
            this.call(f, psi.exchange, { jobId, peer: this.label.partyId }),
            this.call(this.label, psi.exchange, { jobId, peer: f.partyId }),
          ]),
        );
        await psiProgress.finalReport();
      } finally {
        psiProgress.stop();
      }
      const datasets = () =>
        Object.fromEntries([...prepared].map(([id, p]) => [id, { rows: p.rows, columns: p.columns, contentSha256: p.contentSha256, source: p.source }]));
      if (cardinalityOnly) {
        // The feature party sends the label party its answers, shuffled; the label party counts.
        await this.call(feature, psi.answer, { jobId });
        const counted = await this.call(this.label, psi.finish, { jobId });
        await this.call(feature, psi.finish, { jobId });
        const intersection = Number(counted.size);
        if (!Number.isInteger(intersection) || intersection < 0) throw new PartyCallError(this.label.partyId, psi.finish.name, 'reported no valid count');
        await this.hooks.audit({ step: 'psi.result', sender: this.label.partyId, receiver: COORDINATOR_ID, detail: { intersection, output: 'cardinality' } });
        completed = true;
        return { model: 'psi-cardinality', intersection, datasets: datasets() };
      }
      let finished: Record<string, unknown>[];
      if (unbalanced) {
        // The small side matches and sends the big side its positions before the big side finishes.
        const small = await this.call(unbalanced.small, psi.finish, { jobId });
        const big = await this.call(unbalanced.big, psi.finish, { jobId });
        if (typeof small.orderDigest !== 'string' || small.orderDigest !== big.orderDigest) throw new Error('parties disagree on the intersection (order digests differ)');
        finished = [small, big];
      } else if (this.features.length === 1) {
        finished = await Promise.all(all.map((c) => this.call(c, psi.finish, { jobId })));
        const digests = new Set(finished.map((f) => f.orderDigest));
        if (digests.size !== 1) throw new Error('parties disagree on the intersection (order digests differ)');
      } else {
        // Star: the label party intersects every pair's matches and sends each feature party its positions first.
        const label = await this.call(this.label, psi.finish, { jobId });
        const others = await Promise.all(this.features.map((f) => this.call(f, psi.finish, { jobId })));
        const pairDigests = (label.orderDigests ?? {}) as Record<string, unknown>;
        this.features.forEach((f, k) => {
          if (typeof others[k].orderDigest !== 'string' || pairDigests[f.partyId] !== others[k].orderDigest) {
            throw new Error(`${this.label.partyId} and ${f.partyId} disagree on the intersection (order digests differ)`);
          }
        });
        finished = [label, ...others];
      }
      if (new Set(finished.map((f) => f.size)).size !== 1) throw new Error('parties disagree on the intersection (sizes differ)');
      const intersection = Number(finished[0].size);
      const trainRows = Number(finished[0].trainRows);
      const validationRows = Number(finished[0].validationRows);
      await this.hooks.audit({ step: 'psi.result', sender: COORDINATOR_ID, detail: { intersection, trainRows, validationRows } });

      const widest = Math.max(...[...prepared.values()].map((p) => p.columns));
      const smallestBatch = Math.min(hp.batchSize, trainRows);
      if (smallestBatch < minimumBatchRows(widest)) {
        throw new RangeError(
          `batches of ${smallestBatch} rows are too small: every batch needs at least ${minimumBatchRows(widest)} rows ` +
            `(twice the widest party's ${widest} columns, and at least ${MIN_BATCH_ROWS}) so that no party can solve its gradient for individual rows`,
        );
      }

      await this.hooks.phase('training');
      const ckks = await CkksContext.create();
      if (this.spec.model === 'split-nn') {
        try {
          const nn = await trainSplitNn(ckks, {
            jobId, architecture: this.spec.nn!.architecture, defence: this.spec.nn!.defence ?? NO_DEFENCE,
            label: this.label, features: this.features, prepared, trainRows, validationRows,
            call: (c, command, body) => this.call(c, command, body),
            message: (step, from, to, bytes, detail) => this.message(step, from, to, bytes, detail),
            audit: (e) => this.hooks.audit(e),
            takeEpochBytes: () => {
              const bytes = this.bytesThisEpoch;
              this.bytesThisEpoch = 0;
              return bytes;
            },
            resume: this.spec.resume,
            checkpoint: (epoch, extra) => this.checkpoint(epoch, extra),
            progress: (epoch, batch, batches, report) =>
              this.hooks.progress({ phase: 'training', epoch: epoch + 1, epochs: this.spec.nn!.architecture.training.epochs, batch: batch + 1, batches, etaSeconds: null }, report),
          });
          await this.hooks.phase('evaluating');
          const labelOnly = (await this.call(this.label, job.baseline, { jobId }));
          const manifest = await this.exportModel(roster);
          completed = true;
          return { model: 'split-nn', intersection, trainRows, validationRows, ...nn, labelOnly, manifest, backend: prepared.get(this.label.partyId)!.backend, datasets: datasets() };
        } finally {
          ckks.dispose();
        }
      }
      let keys: CkksKeyHolder | undefined;
      let engine: CkksEngine | undefined;
      try {
        // The block layout needs no rotations, so no Galois keys: the bundle is the public key alone.
        // The cubic sigmoid multiplies ciphertexts (V ⊗ V ⊗ V), which needs relinearisation keys.
        keys = CkksKeyHolder.generate(ckks, [], { relinearization: hp.sigmoid === 'cubic' });
        // Decryptions run on worker threads that hold the job's secret key, every party's gradient
        // at once; they load SEAL and the key while the parties take the public keys.
        engine = createCkksEngine({ ckks: keys.ckks, keys }, this.ckksThreads);
        const warming = engine.warm();
        void warming.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
        const bundle = keys.publicBundle();
        const bundleBytes = publicBundleBytes(bundle);
        const bundleDigest = publicBundleDigest(bundle);
        for (const c of all) {
          await this.call(c, job.heKeys, { jobId, bundle });
          await this.hooks.audit({
            step: 'he.keys', sender: COORDINATOR_ID, receiver: c.partyId, byteSize: bundleBytes,
            messageDigest: bundleDigest, detail: { parameterSet: bundle.parameterSet, layout: 'blocks', sigmoid: hp.sigmoid ?? 'taylor', galoisSteps: bundle.galoisSteps, relinearization: (bundle.relinKeys?.length ?? 0) > 0 },
          });
        }
        await warming;
        const decryption = new MaskedDecryptionService(keys, DEFAULT_RELEASE_POLICY, secureGaussian, engine);
        const { reports: epochs, earlyStopping } = await this.trainRounds(decryption, keys, prepared, trainRows);
        await this.hooks.phase('evaluating');
        this.hooks.progress({ phase: 'evaluating' });
        const train = (await this.evaluate('train', hp.epochs, true)) as DetailedMetrics;
        const validation = (await this.evaluate('validation', hp.epochs + 1, true)) as DetailedMetrics;
        const labelOnly = (await this.call(this.label, job.baseline, { jobId }));
        const model = await this.exportModel(roster);
        completed = true;
        return {
          intersection, trainRows, validationRows, train, validation, labelOnly, epochs, earlyStopping, manifest: model,
          backend: prepared.get(this.label.partyId)!.backend,
          datasets: datasets(),
          decryptions: this.decryptions,
          bytesPerEpoch: this.bytesPerEpoch,
          bytesPerEpochByLink: this.bytesPerEpochByLink,
        };
      } finally {
        await engine?.close();
        keys?.dispose();
        ckks.dispose();
      }
    } finally {
      await Promise.allSettled(all.map((c) => c.call(job.close, { jobId, completed })));
    }
  }

  /** Unbalanced mode: the named small party, or the one that reported fewer rows (the label party on a tie). */
  private unbalancedSides(prepared: ReadonlyMap<string, PrepareReply>): { small: PartyChannel; big: PartyChannel } {
    const feature = this.features[0];
    const named = this.spec.alignment?.smallParty;
    const smallIsLabel = named !== undefined ? named === this.label.partyId : prepared.get(this.label.partyId)!.rows <= prepared.get(feature.partyId)!.rows;
    return smallIsLabel ? { small: this.label, big: feature } : { small: feature, big: this.label };
  }

  private async trainRounds(decryption: MaskedDecryptionService, keys: CkksKeyHolder, prepared: Map<string, PrepareReply>, trainRows: number): Promise<{ reports: EpochReport[]; earlyStopping: EarlyStoppingReport | null }> {
    const { jobId, hyperparameters: hp } = this.spec;
    const gradientLevel = keys.ckks.topLevel - 1;
    const scale = gradientScale(keys.ckks, hp);
    const batches = batchCount(trainRows, hp.batchSize);
    const reports: EpochReport[] = [];
    const started = Date.now();
    const stopping = hp.earlyStopping ?? null;
    const all = [this.label, ...this.features];
    const resume = this.spec.resume;
    let best: { epoch: number; value: number } | undefined;
    let sinceBest = 0;
    let firstLoss = NaN;
    if (resume) {
      if (!(Number.isInteger(resume.epoch) && resume.epoch >= 1 && resume.epoch < hp.epochs)) throw new RangeError(`resume.epoch must be in [1, ${hp.epochs - 1}], got ${resume.epoch}`);
      const records = await Promise.all(
        all.map(async (c) => {
          const r = await this.call(c, job.modelResume, { jobId, fromJobId: resume.fromJobId, epoch: resume.epoch });
          await this.hooks.audit({ step: 'model.resume', sender: c.partyId, receiver: COORDINATOR_ID, detail: { fromJobId: resume.fromJobId, epoch: resume.epoch, checkpointDigest: r.checkpointDigest } });
          return r.record === null ? null : lr.trainingRecord.parse(r.record);
        }),
      );
      // The run goes on from the record every party kept with its checkpoint (the best epoch's weights among them).
      const record = agreedCheckpointRecord(records, Boolean(stopping), (r) => Boolean(r?.earlyStopping));
      if (record) firstLoss = record.firstLoss;
      if (record?.earlyStopping) {
        best = { epoch: record.earlyStopping.bestEpoch, value: record.earlyStopping.bestValue };
        sinceBest = record.earlyStopping.sinceBest;
      }
    }
    let diverged = false;
    for (let epoch = resume?.epoch ?? 0; epoch < hp.epochs; epoch++) {
      const epochStart = Date.now();
      this.bytesThisEpoch = 0;
      this.linkBytesThisEpoch.clear();
      for (let batch = 0; batch < batches; batch++) {
        const round = { jobId, epoch, batch };
        const keyFor = (partyId: string) => `${partyId}:${epoch}:${batch}`;
        const batchRows = batch === batches - 1 ? trainRows - batch * hp.batchSize : hp.batchSize;
        for (const c of [this.label, ...this.features]) {
          decryption.expect(keyFor(c.partyId), { width: prepared.get(c.partyId)!.columns, batchRows, level: gradientLevel, scale });
        }
        await Promise.all(this.features.map((f) => this.call(f, lr.forward, round)));
        await this.call(this.label, lr.residual, round);
        // Every party's gradient at once: the label party's is already under way.
        await Promise.all(
          [this.label, ...this.features].map(async (channel) => {
            const bytes = (await this.call(channel, lr.gradient, round)).gradient;
            await this.message('lr.masked_gradient', channel.partyId, COORDINATOR_ID, bytes, { epoch, batch });
            const released = f64ToBytes(await decryption.decrypt(keyFor(channel.partyId), bytes));
            await this.message('lr.update', COORDINATOR_ID, channel.partyId, released, { epoch, batch });
            await this.call(channel, lr.update, { ...round, released });
          }),
        );
        const done = epoch * batches + batch + 1;
        const perBatch = (Date.now() - started) / done;
        this.hooks.progress({
          phase: 'training', epoch: epoch + 1, epochs: hp.epochs, batch: batch + 1, batches,
          rowsProcessed: (batch === batches - 1 ? trainRows : (batch + 1) * hp.batchSize) + epoch * trainRows,
          etaSeconds: Math.round((perBatch * (hp.epochs * batches - done)) / 1000),
        });
      }
      const validation = await this.evaluate('validation', epoch);
      if (Number.isNaN(firstLoss)) firstLoss = validation.logLoss;
      if (!Number.isFinite(validation.logLoss) || validation.logLoss > DIVERGENCE_LOSS_FACTOR * Math.max(firstLoss, Math.LN2)) {
        // With early stopping and a best epoch kept, a blow-up ends training on that epoch's model.
        if (stopping && best) {
          diverged = true;
          break;
        }
        throw new TrainingDivergedError(
          `training diverged at epoch ${epoch + 1}: validation log loss ${validation.logLoss} (epoch 1: ${firstLoss}); lower the learning rate (${hp.learningRate}) or use a schedule`,
        );
      }
      const report: EpochReport = { epoch: epoch + 1, seconds: (Date.now() - epochStart) / 1000, validation };
      reports.push(report);
      this.bytesPerEpoch = this.bytesThisEpoch;
      this.bytesPerEpochByLink = Object.fromEntries([...this.linkBytesThisEpoch].sort());
      await this.hooks.audit({ step: 'lr.epoch', sender: COORDINATOR_ID, detail: { epoch: epoch + 1, validationAuc: validation.auc, validationLoss: validation.logLoss } });
      this.hooks.progress({ phase: 'training', epoch: epoch + 1, epochs: hp.epochs, batch: batches, batches, rowsProcessed: (epoch + 1) * trainRows, etaSeconds: null }, report);
      if (stopping) {
        const value = stopping.metric === 'auc' ? validation.auc : -validation.logLoss;
        if (!best || value > best.value + (stopping.minDelta ?? 0)) {
          best = { epoch: epoch + 1, value };
          sinceBest = 0;
          await Promise.all([this.label, ...this.features].map((c) => this.call(c, job.modelSnapshot, { jobId, epoch: epoch + 1 })));
        } else if (++sinceBest >= stopping.patience) {
          break;
        }
      }
      // After the early-stopping step, so the checkpoint holds the best epoch's weights so far.
      if (epoch + 1 < hp.epochs) {
        const training: LrTrainingRecord = { firstLoss, ...(best ? { earlyStopping: { bestEpoch: best.epoch, bestValue: best.value, sinceBest } } : {}) };
        await this.checkpoint(epoch + 1, training);
      }
    }
    this.decryptions = decryption.decryptions;
    if (!stopping || !best) return { reports, earlyStopping: null };
    // Epoch numbers, not report counts: a resumed job reports only the epochs after its checkpoint.
    const reported = reports.at(-1)?.epoch ?? resume?.epoch ?? 0;
    const last = diverged ? reported + 1 : reported;
    if (best.epoch !== last) await Promise.all([this.label, ...this.features].map((c) => this.call(c, job.modelRestore, { jobId, epoch: best!.epoch })));
    const stoppedEarly = diverged || last < hp.epochs;
    const earlyStopping: EarlyStoppingReport = { metric: stopping.metric, bestEpoch: best.epoch, stoppedAtEpoch: last, stoppedEarly, ...(stoppedEarly ? { reason: diverged ? 'diverged' : 'patience' } : {}) };
    await this.hooks.audit({ step: 'lr.early_stopping', sender: COORDINATOR_ID, detail: { ...earlyStopping } });
    return { reports, earlyStopping };
  }

  /** Every party keeps its weights and optimizer state of `epoch` completed epochs (`extra`: what the command also carries, e.g. split NN's early-stopping record). */
  private async checkpoint(epoch: number, record?: unknown): Promise<void> {
    const { jobId } = this.spec;
    await Promise.all(
      [this.label, ...this.features].map(async (c) => {
        const r = await this.call(c, job.modelCheckpoint, { jobId, epoch, ...(record === undefined ? {} : { record }) });
        await this.hooks.audit({ step: 'model.checkpoint', sender: c.partyId, receiver: COORDINATOR_ID, messageDigest: String(r.checkpointDigest), byteSize: Number(r.checkpointBytes), detail: { epoch } });
      }),
    );
    await this.hooks.checkpointed?.(epoch);
  }

  /** Every party saves its model and signs its digest; the parts make the manifest. */
  private async exportModel(roster: readonly RosterEntry[]): Promise<ModelManifest> {
    const { jobId } = this.spec;
    const parts: ManifestPart[] = await Promise.all(
      [this.label, ...this.features].map(async (c) => {
        const r = await this.call(c, job.modelExport, { jobId });
        const publicKey = roster.find((e) => e.partyId === c.partyId)!.publicKey;
        const part: ManifestPart = { partyId: c.partyId, role: r.role, publicKey, columns: r.columns, modelDigest: r.modelDigest, signature: r.signature };
        if (!verifySignature(publicKey, partModelSigningText(jobId, c.partyId, part.modelDigest), part.signature)) {
          throw new PartyCallError(c.partyId, job.modelExport.name, 'signed its model digest with another key than its roster key');
        }
        await this.hooks.audit({ step: 'model.export', sender: c.partyId, receiver: COORDINATOR_ID, messageDigest: part.modelDigest, byteSize: Number(r.modelBytes), detail: { columns: part.columns.length } });
        return part;
      }),
    );
    const family = this.spec.model === 'split-nn' ? { model: 'split-nn' as const, architecture: this.spec.nn!.architecture } : { model: 'split-lr' as const };
    return { version: MODEL_MANIFEST_VERSION, jobId, createdAt: new Date().toISOString(), ...family, parts };
  }

  private async evaluate(split: 'train' | 'validation', round: number, detailed = false): Promise<BinaryMetrics | DetailedMetrics> {
    const { jobId } = this.spec;
    await Promise.all(this.features.map((f) => this.call(f, lr.shareLogits, { jobId, split, round })));
    return this.call(this.label, lr.evaluate, { jobId, split, round, detailed });
  }

  /** Calls a party and audits every peer message it reports having sent. */
  private async call<Q, P>(channel: PartyChannel, command: Command<Q, P>, body: Q): Promise<P> {
    if (this.hooks.cancelled?.()) throw new JobCancelledError();
    let result: CommandResult<P>;
    try {
      result = await channel.call(command, body);
    } catch (e) {
      throw attributeFailure(channel.partyId, command.name, e, this.spec.parties);
    }
    const round = body as { epoch?: unknown; batch?: unknown; split?: unknown };
    const detail = { epoch: round.epoch, batch: round.batch, split: round.split };
    await Promise.all(
      result.messages.map((r) => {
        this.count(r.from, r.to, r.bytes);
        return this.hooks.audit({ step: r.type, sender: r.from, receiver: r.to, messageDigest: r.digest, byteSize: r.bytes, detail: { ...detail, seq: r.seq } });
      }),
    );
    return result.reply;
  }


  private message(step: string, from: string, to: string, bytes: Uint8Array, detail: Record<string, unknown>): Promise<unknown> {
    this.count(from, to, bytes.length);
    return this.hooks.audit({ step, sender: from, receiver: to, messageDigest: digestHex(bytes), byteSize: bytes.length, detail });
  }

  private count(from: string, to: string, bytes: number): void {
    this.bytesThisEpoch += bytes;
    const link = `${from}->${to}`;
    this.linkBytesThisEpoch.set(link, (this.linkBytesThisEpoch.get(link) ?? 0) + bytes);
  }

  private channel(partyId: string): PartyChannel {
    const c = this.channels.get(partyId);
    if (!c) throw new RangeError(`party ${partyId} is not known to this coordinator`);
    return c;
  }
}

/**
 * The party a command's failure belongs to: the called party, or, when it reports that its
 * message to a peer of the job failed there (a refusal, a failed audit write, a peer down), that peer.
 */
export function attributeFailure(called: string, command: string, e: unknown, parties: readonly { partyId: string }[]): PartyCallError {
  const text = e instanceof Error ? e.message : String(e);
  const at = failedAtOf(e);
  if (at && at !== called && parties.some((p) => p.partyId === at)) return new PartyCallError(at, command, `${text} (on ${called}'s message to ${at})`);
  return new PartyCallError(called, command, at && at !== called ? `${text} (at ${at})` : text);
}

/** Like Promise.all, but waits for every promise to settle before rethrowing the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Asks every party, once a second while PSI runs, how many elements it has blinded, and reports
 * the total with a rate-based ETA. Counts only; a party that does not answer in time is skipped.
 */
class PsiProgressPoller {
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly jobId: string,
    private readonly parties: readonly PartyChannel[],
    private readonly hooks: JobHooks,
  ) {
    this.timer = setInterval(() => {
      if (!this.polling) this.polling = this.poll().finally(() => (this.polling = null));
    }, 1000);
    this.timer.unref();
  }

  /** One last poll once the exchange is over, so the job shows alignment complete. */
  async finalReport(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const replies = await Promise.allSettled(this.parties.map((p) => p.call(psi.progress, { jobId: this.jobId })));
    let done = 0;
    let total = 0;
    for (const r of replies) {
      if (r.status !== 'fulfilled') continue;
      const v = r.value.reply;
      done += Number(v.ownDone ?? 0) + Number(v.peerDone ?? 0);
      // Every own element is blinded again by the peer: twice the party's own list.
      total += 2 * Number(v.ownTotal ?? 0);
    }
    if (this.stopped) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = done / seconds;
    this.hooks.progress({
      phase: 'aligning',
      elementsDone: done,
      elementsTotal: total,
      etaSeconds: rate > 0 && total > done ? Math.round((total - done) / rate) : null,
    });
  }
}
