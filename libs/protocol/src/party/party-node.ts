/**
 * A party's protocol engine, free of any transport: the Nest party app hands it coordinator
 * commands (`handleCommand`) and peer envelopes (`handlePeer`) and gives it a PeerTransport to
 * reach other parties. One PartyNode serves many jobs, each a PartyJob.
 *
 * Every command passes the CommandGate (signed by the pinned coordinator key, fresh, not
 * replayed), then its command's schema, then goes to the handler its model folder registered
 * (party/handler-registry.ts). With an `audit` log, the party keeps its own record of every job:
 * what the coordinator handed it, each message it sent or received, what it refused; each record
 * is written before the step it describes goes on. docs/protocol.md says what each party learns.
 */
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { AuditEventInput, UNATTRIBUTED_JOB_ID } from '@vfl/audit';
import { resolveDataPath } from '@vfl/data';
import { CkksContext, type PsiEngine, type SigningIdentity } from '@vfl/crypto';
import type { TensorflowRuntime } from '@vfl/ml';
import { checked } from '../wire/command';
import { digestHex } from '../wire/codec';
import { MessageReceipt, PeerEnvelope, peerEnvelopeSchema } from '../wire/peer-envelope';
import type { PartyRole } from '../wire/roster';
import { CommandGate, RefusalRateLimiter } from '../wire/signed-command';
import { PartyHandlerRegistry } from './handler-registry';
import { PartyError } from './party-error';
import { PartyJob } from './party-job';
import type { CommandCall, PartyContext, PartyStorage } from './party-model';
import { PeerLink, PeerTransport, shortField } from './peer-link';
import { COORDINATOR_ID } from '../wire/roster';

/** A party's own audit log (an AuditStore on the party's database in the services). */
export interface PartyAuditLog {
  record(jobId: string, event: AuditEventInput): Promise<unknown>;
  /** The job has closed here: sign the head of its log. */
  close(jobId: string): Promise<unknown>;
  /** Signs the head of the job's log now. */
  sign?(jobId: string): Promise<unknown>;
}

export interface PartyNodeOptions extends PartyStorage {
  readonly partyId: string;
  readonly role: PartyRole;
  /** Signs this party's envelopes; its public key must be the one the job's roster lists. */
  readonly identity: SigningIdentity;
  /** The coordinator's ed25519 public key (hex): every command must be signed by it. Unset, every command is refused. */
  readonly coordinatorKey?: string;
  /** How old (or how far ahead) a command may be; default 5 minutes. */
  readonly commandMaxAgeMs?: number;
  /** Peer keys pinned in this party's own configuration: a roster listing another key is refused. */
  readonly pinnedKeys?: ReadonlyMap<string, string>;
  readonly peers: PeerTransport;
  /** Bulk ECDH-PSI group operations (worker threads in the services). */
  readonly psiEngine: PsiEngine;
  readonly tensorflow: TensorflowRuntime;
  /** When set, data references must resolve inside this directory. */
  readonly dataRoot?: string;
  /** This party's own audit log; each record is awaited before the step it describes goes on. */
  readonly audit?: PartyAuditLog;
  /** Worker threads for a split-LR job's CKKS work (default: one per core; 0: on the calling thread). */
  readonly ckksThreads?: number;
  /** The commands and models this party serves (registry.ts: partyHandlers()). */
  readonly handlers: PartyHandlerRegistry;
  readonly now?: () => number;
}

/** What goes back to the coordinator: the handler's reply and the receipts of peer messages sent meanwhile. */
export interface CommandOutcome {
  readonly reply: unknown;
  readonly messages: MessageReceipt[];
}

export class PartyNode {
  private readonly jobs = new Map<string, PartyJob>();
  /** Jobs closed here: a late or repeated prepare for one of them is refused. */
  private readonly closed = new Set<string>();
  private ckksContext?: Promise<CkksContext>;
  private readonly gate: CommandGate;
  private readonly refusals: RefusalRateLimiter;
  private readonly link: PeerLink;
  private readonly handlers: PartyHandlerRegistry;
  readonly context: PartyContext;

  constructor(private readonly o: PartyNodeOptions) {
    this.gate = new CommandGate({
      partyId: o.partyId,
      coordinatorKey: o.coordinatorKey,
      maxAgeMs: o.commandMaxAgeMs,
      now: o.now,
    });
    this.refusals = new RefusalRateLimiter(20, 60_000, o.now);
    const audit = async (jobId: string, event: AuditEventInput) => void (await o.audit?.record(jobId, event));
    this.link = new PeerLink(o.partyId, o.identity, o.peers, audit);
    this.handlers = o.handlers;
    this.context = {
      partyId: o.partyId,
      role: o.role,
      identity: o.identity,
      psiEngine: o.psiEngine,
      tensorflow: o.tensorflow,
      ckksThreads: o.ckksThreads,
      storage: o,
      ckks: () => (this.ckksContext ??= CkksContext.create()),
      resolveData: (file) => this.resolveData(file),
      job: (id) => this.job(id),
      adopt: (job) => this.adopt(job),
      isKnown: (id) => this.jobs.has(id) || this.closed.has(id),
      jobCount: () => this.jobs.size,
      channelKey: (job, peer) => this.link.channelKey(job, peer),
      audit,
      checkRoster: (roster) => this.checkRoster(roster),
      forget: (job) => this.forget(job),
      closeAudit: async (jobId) => void (await o.audit?.close(jobId)),
      signAudit: async (jobId) => void (await o.audit?.sign?.(jobId)),
    };
  }

  get partyId(): string {
    return this.o.partyId;
  }

  /** Why this party could not take a job now (empty when it can). */
  async readinessProblems(): Promise<string[]> {
    const problems: string[] = [];
    if (!this.o.coordinatorKey)
      problems.push('no coordinator key pinned (VFL_COORDINATOR_KEY): every command is refused');
    if (this.o.dataRoot) {
      try {
        await fs.access(this.o.dataRoot, fsConstants.R_OK);
      } catch {
        problems.push(`data root ${this.o.dataRoot} is not readable`);
      }
    }
    return problems;
  }

  /** A signed coordinator command, as it came off the wire. */
  async handleCommand(raw: unknown): Promise<CommandOutcome> {
    let opened: ReturnType<CommandGate['open']>;
    try {
      opened = this.gate.open(raw);
    } catch (e) {
      await this.recordCommandRefusal(raw, e);
      throw e;
    }
    try {
      return await this.serve(opened);
    } catch (e) {
      await this.recordJobRefusal(opened, e);
      throw e;
    }
  }

  /** An authenticated command: its schema, then its handler, with the party's records before and after. */
  private async serve(opened: ReturnType<CommandGate['open']>): Promise<CommandOutcome> {
    const handler = this.handlers.command(opened.command);
    if (!handler) throw new PartyError(`unknown command ${opened.command}`);
    const body: unknown = checked(handler.command.request, opened.body, opened.command);
    const job = handler.needsJob ? this.job(opened.jobId) : undefined;
    // A prediction runs inference steps only: no step could ever move its saved model or return a gradient.
    const phase = (body as { phase?: unknown }).phase;
    if (job?.purpose === 'prediction' && (!handler.inPrediction || phase === 'train')) {
      throw new PartyError(
        `${opened.command}${typeof phase === 'string' ? ` (phase ${phase})` : ''} is not a step of a prediction`,
      );
    }
    const out: MessageReceipt[] = [];
    const call: CommandCall = {
      node: this.context,
      send: (j, to, message, payload) => this.link.send(j, to, message, payload, out),
    };
    // The records are built only where there is a log to keep them: a digest of every gradient costs time.
    if (this.o.audit && this.jobs.has(opened.jobId))
      for (const e of handler.incoming?.(body, this.context) ?? []) await this.context.audit(opened.jobId, e);
    const reply: unknown = await handler.handle(body, call, job);
    if (this.o.audit)
      for (const e of handler.outgoing?.(body, reply, this.context) ?? []) await this.context.audit(opened.jobId, e);
    return { reply, messages: out };
  }

  /** Envelopes from other parties. Returns the reply body (MessagePack) or null. */
  async handlePeer(raw: unknown): Promise<Uint8Array | null> {
    let envelope: PeerEnvelope;
    let accepted: ReturnType<PeerLink['accept']>;
    let handler: ReturnType<PartyHandlerRegistry['peer']>;
    let body: unknown;
    const claimed = (raw as { jobId?: unknown } | null)?.jobId;
    const known = typeof claimed === 'string' && this.jobs.has(claimed);
    try {
      envelope = checked(peerEnvelopeSchema, raw, 'peer envelope');
      accepted = this.link.accept(envelope, this.jobs.get(envelope.jobId));
      handler = this.handlers.peer(envelope.type);
      if (!handler) throw new PartyError(`unknown peer message type ${envelope.type}`);
      body = checked(handler.message.body, accepted.body, envelope.type);
    } catch (e) {
      await this.link.recordRefusal(raw, known, e);
      throw e;
    }
    const { job, key } = accepted;
    await this.context.audit(job.id, {
      step: envelope.type,
      sender: envelope.from,
      receiver: this.o.partyId,
      messageDigest: envelope.digest,
      byteSize: envelope.body.length,
      detail: { seq: envelope.seq, signature: envelope.signature },
    });
    let reply: unknown;
    try {
      // Every peer message type flows one way between roles: a feature party hears only from the
      // label party, and the label party only from feature parties (never one feature party from another).
      const sender = job.roster.find((r) => r.partyId === envelope.from)!;
      const expected: PartyRole = job.role === 'label' ? 'feature' : 'label';
      if (sender.role !== expected)
        throw new PartyError(
          `${envelope.type} from ${envelope.from} (${sender.role}) refused: a ${job.role} party takes it only from a ${expected} party`,
        );
      reply = await handler.handle(body, job, envelope.from, this.context);
    } catch (e) {
      // A well-signed message whose content breaks the protocol (a skipped PSI chunk, a duplicate).
      await this.link.recordRefusal(raw, true, e);
      throw e;
    }
    if (reply === null || reply === undefined) return null;
    const sealed = this.link.sealReply(key, envelope, reply);
    await this.context.audit(job.id, {
      step: `${envelope.type}.reply`,
      sender: this.o.partyId,
      receiver: envelope.from,
      messageDigest: digestHex(sealed),
      byteSize: sealed.length,
      detail: { seq: envelope.seq },
    });
    return sealed;
  }

  /**
   * What this party refused of a job it holds, or a job.prepare it refused, goes into that job's
   * own chain (the signed command vouches for the job id), so its log shows why it stopped; a
   * refused prepare's chain is signed at once, since no job.close will sign it.
   */
  private async recordJobRefusal(opened: ReturnType<CommandGate['open']>, error: unknown): Promise<void> {
    const prepare = opened.command === 'job.prepare';
    if (!this.o.audit || (!prepare && !this.jobs.has(opened.jobId))) return;
    try {
      await this.o.audit.record(opened.jobId, {
        step: 'command.refused',
        sender: COORDINATOR_ID,
        receiver: this.o.partyId,
        detail: {
          command: opened.command,
          reason: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
        },
      });
      if (prepare && !this.jobs.has(opened.jobId)) await this.o.audit.close(opened.jobId);
    } catch {
      // The refusal stands whether or not it could be recorded; the command's own error goes back.
    }
  }

  /**
   * A refused command goes into the unattributed chain (its job claim is unauthenticated), with
   * fixed-shape fields only; past 20 a minute they are counted, and the next record says how many.
   */
  private async recordCommandRefusal(raw: unknown, error: unknown): Promise<void> {
    const admitted = this.refusals.admit();
    if (!admitted || !this.o.audit) return;
    const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    await this.o.audit.record(UNATTRIBUTED_JOB_ID, {
      step: 'command.refused',
      sender: shortField(c.sender ?? 'unauthenticated'),
      receiver: this.o.partyId,
      detail: {
        command: shortField(c.command),
        claimedJob: shortField(c.jobId),
        reason: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
        suppressedBefore: admitted.suppressed,
      },
    });
  }

  private job(id: string): PartyJob {
    const job = this.jobs.get(id);
    if (!job) throw new PartyError(`unknown job ${id.slice(0, 64)} (not prepared on ${this.o.partyId})`);
    return job;
  }

  private adopt(job: PartyJob): void {
    if (this.jobs.has(job.id)) throw new PartyError(`job ${job.id} is already prepared here`);
    if (this.closed.has(job.id)) throw new PartyError(`job ${job.id} was already closed here`);
    this.jobs.set(job.id, job);
  }

  private forget(jobId: string): PartyJob | undefined {
    const job = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    this.closed.add(jobId);
    job?.dispose();
    return job;
  }

  /** The roster must list this party under its own key, and peers under the keys pinned here. */
  private checkRoster(roster: readonly { partyId: string; publicKey: string }[]): void {
    const me = roster.find((r) => r.partyId === this.o.partyId);
    if (!me) throw new PartyError(`${this.o.partyId} is not in the job's roster`);
    if (me.publicKey !== this.o.identity.publicKeyHex)
      throw new PartyError(`the job's roster lists another public key for ${this.o.partyId}`);
    for (const r of roster) {
      const pinned = this.o.pinnedKeys?.get(r.partyId);
      if (pinned && pinned !== r.publicKey)
        throw new PartyError(
          `the job's roster key for ${r.partyId} differs from the key configured at ${this.o.partyId}`,
        );
    }
  }

  /** The real path of a data reference, inside the data root (a symlink may not lead out of it). */
  private resolveData(file: string): Promise<string> {
    return resolveDataPath(this.o.dataRoot, file);
  }
}
