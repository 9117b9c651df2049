/**
 * The coordinator's side of one job, for every model: the roster (each party's signing key),
 * job.prepare, alignment by PSI (psi/alignment.ts), then the strategy of the job's model (split-lr/,
 * split-nn/, psi/ folders; registry.ts) on the aligned rows, and job.close at every party whatever
 * happened. It talks to parties only through PartyChannels and records every step and every
 * message (digest and size, never content) through `audit`, awaiting each write before moving
 * on, so the protocol never runs ahead of its audit trail.
 */
import { verifySignature } from '@vfl/crypto';
import { ManifestPart, MODEL_MANIFEST_VERSION, ModelManifest, partModelSigningText } from '../model-manifest';
import { alignParties } from '../psi/alignment';
import type { Command } from '../wire/command';
import type { CommandResult, PartyChannel } from '../wire/party-channel';
import { COORDINATOR_ID, RosterEntry } from '../wire/roster';
import * as job from './commands';
import { checkJobData, DataProblemsError, type JobDataCheck } from './data-check';
import { scheduleForRows } from '@vfl/ml';
import type { PrepareReply } from './commands';
import {
  attributeFailure,
  Datasets,
  JobCancelledError,
  JobHooks,
  JobSpec,
  isNotListening,
  isTransportFailure,
  minimumBatchRows,
  PartyCallError,
  payloadRecord,
  settleAll,
} from './job-types';
import type { EpochTraffic, JobContext, JobStrategy } from './strategy';

/** How long a job's first call waits for a reconnecting message broker (NATS reconnects every 2 s). */
const TRANSPORT_RECONNECT_WAIT_MS = 20_000;

export interface JobRunnerOptions<Result> {
  /** The strategies this coordinator runs, by model (registry.ts: jobStrategies()). */
  readonly strategies: ReadonlyMap<string, JobStrategy<Result>>;
  /** Worker threads for the coordinator's CKKS work (default: one per core; 0: inline). */
  readonly ckksThreads?: number;
}

export class JobRunner<Result> {
  private readonly label: PartyChannel;
  private readonly features: PartyChannel[];
  private readonly strategy: JobStrategy<Result>;
  private readonly traffic = new LinkTraffic();

  constructor(
    private spec: JobSpec,
    private readonly channels: ReadonlyMap<string, PartyChannel>,
    private readonly hooks: JobHooks,
    private readonly options: JobRunnerOptions<Result>,
  ) {
    const strategy = options.strategies.get(spec.model);
    if (!strategy)
      throw new RangeError(
        `unknown model "${spec.model.slice(0, 32)}" (known: ${[...options.strategies.keys()].join(', ')})`,
      );
    this.strategy = strategy;
    const labels = spec.parties.filter((p) => p.role === 'label');
    const features = spec.parties.filter((p) => p.role === 'feature');
    if (labels.length !== 1)
      throw new RangeError(`a ${spec.model} job needs exactly one label party, got ${labels.length}`);
    if (features.length < 1) throw new RangeError(`a ${spec.model} job needs at least one feature party`);
    const mode = spec.alignment?.mode ?? 'balanced';
    if (mode !== 'balanced' && mode !== 'unbalanced')
      throw new RangeError(`alignment.mode must be "balanced" or "unbalanced", got "${String(mode).slice(0, 24)}"`);
    if (mode === 'unbalanced') {
      if (features.length !== 1)
        throw new RangeError(`unbalanced PSI takes exactly one feature party, got ${features.length}`);
      if (strategy.alignment === 'cardinality') throw new RangeError('a cardinality-only check runs in balanced mode');
      const small = spec.alignment?.smallParty;
      if (small !== undefined && !spec.parties.some((p) => p.partyId === small))
        throw new RangeError(`alignment.smallParty "${String(small).slice(0, 64)}" is not a party of the job`);
    }
    const protocol = spec.alignment?.protocol ?? 'auto';
    if (protocol !== 'auto' && protocol !== 'ecdh' && protocol !== 'kkrt')
      throw new RangeError(
        `alignment.protocol must be "auto", "ecdh" or "kkrt", got "${String(protocol).slice(0, 24)}"`,
      );
    if (protocol === 'kkrt' && (features.length !== 1 || mode === 'unbalanced' || strategy.alignment === 'cardinality'))
      throw new RangeError('alignment.protocol "kkrt" takes one feature party, balanced mode and an intersection');
    const objective = spec.objective ?? 'binary';
    if (strategy.alignment === 'intersection' && !(strategy.objectives ?? ['binary']).includes(objective))
      throw new RangeError(
        `model ${spec.model} takes objective ${(strategy.objectives ?? ['binary']).join(' or ')}, not "${String(objective).slice(0, 24)}"`,
      );
    strategy.check?.(spec);
    this.label = this.channel(labels[0].partyId);
    this.features = features.map((f) => this.channel(f.partyId));
  }

  async run(): Promise<Result> {
    const { jobId } = this.spec;
    let completed = false;
    try {
      await this.hooks.phase('aligning');
      this.hooks.progress({ phase: 'aligning' });
      const roster = await this.roster();
      await this.checkData();
      const prepared = await this.prepare(roster);
      const alignment = await alignParties(
        {
          spec: this.spec,
          label: this.label,
          features: this.features,
          prepared,
          hooks: this.hooks,
          call: (c, command, body) => this.call(c, command, body),
        },
        this.strategy.alignment,
      );
      const datasets: Datasets = Object.fromEntries(
        [...prepared].map(([id, p]) => [
          id,
          { rows: p.rows, columns: p.columns, contentSha256: p.contentSha256, source: p.source },
        ]),
      );
      const result = await this.strategy.run(this.context(roster, prepared, alignment, datasets));
      completed = true;
      return result;
    } finally {
      await Promise.allSettled([this.label, ...this.features].map((c) => c.call(job.close, { jobId, completed })));
    }
  }

  /** Each party presents its signing key; the roster binds every party to one key for the job. */
  private async roster(): Promise<RosterEntry[]> {
    const roster = await settleAll(
      this.spec.parties.map(async (p) => {
        const { publicKey } = await this.healthOnceTransportIsUp(p.partyId);
        if (p.publicKey && p.publicKey !== publicKey)
          throw new PartyCallError(
            p.partyId,
            job.health.name,
            `presents signing key ${publicKey}, but the registry pins ${p.publicKey}`,
          );
        return { partyId: p.partyId, role: p.role, publicKey };
      }),
    );
    await this.hooks.audit({
      step: 'job.roster',
      sender: COORDINATOR_ID,
      detail: { roster: roster.map((r) => ({ ...r })) },
    });
    return roster;
  }

  /**
   * A party's health, waiting out a message broker that is still reconnecting, or a party whose
   * subscription is not back yet (a job started or resumed right after a NATS restart): nothing
   * has happened yet and health changes nothing, so asking again is safe. Any other failure, or
   * either still away after the wait, fails the job.
   */
  private async healthOnceTransportIsUp(partyId: string): Promise<{ publicKey: string }> {
    const deadline = Date.now() + TRANSPORT_RECONNECT_WAIT_MS;
    for (;;) {
      try {
        return await this.call(this.channel(partyId), job.health, {});
      } catch (e) {
        if (!(isTransportFailure(e) || isNotListening(e)) || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Every party's data problems at once, before alignment: the job stops here with all of them. */
  private async checkData(): Promise<void> {
    if (this.hooks.cancelled?.()) throw new JobCancelledError();
    const check = await checkJobData(this.spec, this.channels, {
      labelled: this.strategy.alignment !== 'cardinality',
      batchSize: this.strategy.dataSettings(this.spec).batchSize,
    });
    await this.hooks.audit({
      step: 'job.check',
      sender: COORDINATOR_ID,
      detail: {
        ok: check.ok,
        problems: Object.fromEntries(Object.entries(check.parties).map(([id, r]) => [id, r.problems.length])),
      },
    });
    if (!check.ok) throw new DataProblemsError(check);
    await this.sizeFromRows(check);
  }

  /** Batch size and epochs the request left out, from the rows every party holds (an upper bound of the intersection). */
  private async sizeFromRows(check: JobDataCheck): Promise<void> {
    const auto = this.spec.sizedByRows;
    if (!auto || (!auto.batchSize && !auto.epochs)) return;
    const answers = Object.values(check.parties);
    const rows = Math.min(...answers.map((r) => r.rows));
    const widest = Math.max(...answers.map((r) => r.columns));
    const hp = this.spec.hyperparameters;
    const fit = scheduleForRows(rows, hp.validationFraction, minimumBatchRows(widest));
    const hyperparameters = {
      ...hp,
      ...(auto.batchSize ? { batchSize: fit.batchSize } : {}),
      ...(auto.epochs ? { epochs: fit.epochs } : {}),
    };
    this.spec = { ...this.spec, hyperparameters };
    await this.hooks.audit({
      step: 'job.schedule',
      sender: COORDINATOR_ID,
      detail: { rows, batchSize: hyperparameters.batchSize, epochs: hyperparameters.epochs, sizedByRows: { ...auto } },
    });
  }

  private async prepare(roster: RosterEntry[]): Promise<Map<string, PrepareReply>> {
    const prepared = new Map<string, PrepareReply>();
    const { jobId } = this.spec;
    // allSettled, not all: every prepare must have finished before the final close, or a slow
    // one would register the job on its party after the close and keep its data there.
    await settleAll(
      this.spec.parties.map(async (p) => {
        const reply = await this.call(this.channel(p.partyId), job.prepare, {
          jobId,
          model: this.spec.model,
          role: p.role,
          data: p.data,
          roster,
          alignment: {
            idRules: [...(this.spec.alignment?.idRules ?? [])],
            output: this.strategy.alignment,
            mode: this.spec.alignment?.mode ?? 'balanced',
          },
          dataSettings: this.strategy.dataSettings(this.spec),
          settings: this.strategy.settings(this.spec),
        });
        prepared.set(p.partyId, reply);
        await this.hooks.audit({
          step: 'job.prepare',
          sender: p.partyId,
          receiver: COORDINATOR_ID,
          detail: {
            rows: reply.rows,
            columns: reply.columns,
            columnNames: reply.columnNames,
            contentSha256: reply.contentSha256,
            source: reply.source,
          },
        });
      }),
    );
    return prepared;
  }

  private context(
    roster: RosterEntry[],
    prepared: Map<string, PrepareReply>,
    alignment: JobContext['alignment'],
    datasets: Datasets,
  ): JobContext {
    const { jobId } = this.spec;
    const all = [this.label, ...this.features];
    const everyParty = <Q, P>(command: Command<Q, P>, body: Q) =>
      Promise.all(all.map((c) => this.call(c, command, body)));
    return {
      spec: this.spec,
      label: this.label,
      features: this.features,
      roster,
      prepared,
      alignment,
      datasets,
      ckksThreads: this.options.ckksThreads,
      traffic: this.traffic,
      call: (c, command, body) => this.call(c, command, body),
      message: (step, from, to, payload, detail) => {
        const record = payloadRecord(step, from, to, payload, detail);
        this.traffic.count(from, to, record.byteSize ?? 0);
        return this.hooks.audit(record);
      },
      audit: (e) => this.hooks.audit(e),
      phase: (p) => this.hooks.phase(p),
      progress: (p, epoch) => this.hooks.progress(p, epoch),
      checkpoint: async (epoch, record) => {
        await Promise.all(
          all.map(async (c) => {
            const r = await this.call(c, job.modelCheckpoint, {
              jobId,
              epoch,
              ...(record === undefined ? {} : { record }),
            });
            await this.hooks.audit({
              step: 'model.checkpoint',
              sender: c.partyId,
              receiver: COORDINATOR_ID,
              messageDigest: r.checkpointDigest,
              byteSize: r.checkpointBytes,
              detail: { epoch },
            });
          }),
        );
        await this.hooks.checkpointed?.(epoch);
      },
      resumeRecords: async () => {
        const resume = this.spec.resume;
        if (!resume) return [];
        return Promise.all(
          all.map(async (c) => {
            const r = await this.call(c, job.modelResume, { jobId, fromJobId: resume.fromJobId, epoch: resume.epoch });
            await this.hooks.audit({
              step: 'model.resume',
              sender: c.partyId,
              receiver: COORDINATOR_ID,
              detail: { fromJobId: resume.fromJobId, epoch: resume.epoch, checkpointDigest: r.checkpointDigest },
            });
            return r.record;
          }),
        );
      },
      snapshot: async (epoch) => void (await everyParty(job.modelSnapshot, { jobId, epoch })),
      restore: async (epoch) => void (await everyParty(job.modelRestore, { jobId, epoch })),
      exportModel: (family) => this.exportModel(roster, family),
      baseline: () => this.call(this.label, job.baseline, { jobId }),
    };
  }

  private async exportModel(
    roster: readonly RosterEntry[],
    family: Pick<ModelManifest, 'model' | 'architecture' | 'objective'>,
  ): Promise<ModelManifest> {
    const { jobId } = this.spec;
    const parts: ManifestPart[] = await Promise.all(
      [this.label, ...this.features].map(async (c) => {
        const r = await this.call(c, job.modelExport, { jobId });
        const publicKey = roster.find((e) => e.partyId === c.partyId)!.publicKey;
        const part: ManifestPart = {
          partyId: c.partyId,
          role: r.role,
          publicKey,
          columns: r.columns,
          modelDigest: r.modelDigest,
          signature: r.signature,
        };
        if (!verifySignature(publicKey, partModelSigningText(jobId, c.partyId, part.modelDigest), part.signature)) {
          throw new PartyCallError(
            c.partyId,
            job.modelExport.name,
            'signed its model digest with another key than its roster key',
          );
        }
        await this.hooks.audit({
          step: 'model.export',
          sender: c.partyId,
          receiver: COORDINATOR_ID,
          messageDigest: part.modelDigest,
          byteSize: r.modelBytes,
          detail: { columns: part.columns.length },
        });
        return part;
      }),
    );
    return { version: MODEL_MANIFEST_VERSION, jobId, createdAt: new Date().toISOString(), ...family, parts };
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
        this.traffic.count(r.from, r.to, r.bytes);
        return this.hooks.audit({
          step: r.type,
          sender: r.from,
          receiver: r.to,
          messageDigest: r.digest,
          byteSize: r.bytes,
          detail: { ...detail, seq: r.seq },
        });
      }),
    );
    return result.reply;
  }

  private channel(partyId: string): PartyChannel {
    const c = this.channels.get(partyId);
    if (!c) throw new RangeError(`party ${partyId} is not known to this coordinator`);
    return c;
  }
}

/** Bytes per link of the current epoch. */
class LinkTraffic implements EpochTraffic {
  private total = 0;
  private readonly links = new Map<string, number>();

  count(from: string, to: string, bytes: number): void {
    this.total += bytes;
    const link = `${from}->${to}`;
    this.links.set(link, (this.links.get(link) ?? 0) + bytes);
  }

  start(): void {
    this.total = 0;
    this.links.clear();
  }

  take(): { total: number; byLink: Record<string, number> } {
    const out = { total: this.total, byLink: Object.fromEntries([...this.links].sort()) };
    this.start();
    return out;
  }
}
