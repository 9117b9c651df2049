/**
 * A party's side of party-to-party messaging for every job: it seals, signs and sends envelopes,
 * and checks those that arrive (address, roster, digest, signature, sequence, seal) before any
 * handler sees a body. Every envelope sent, received or refused goes into the party's own log.
 */
import { open as openBody, peerChannelKey, seal as sealBody, type SigningIdentity, verifySignature } from '@vfl/crypto';
import { AuditEventInput, UNATTRIBUTED_JOB_ID } from '@vfl/audit';
import { digestHex, packBody, unpackBody } from '../wire/codec';
import { envelopeSigningText, MessageReceipt, PeerEnvelope, PeerMessage, sealContext } from '../wire/peer-envelope';
import { PartyError, failedAtOf } from './party-error';
import type { PartyJob } from './party-job';

export interface PeerTransport {
  /** Delivers an envelope to another party and returns its reply body (MessagePack), if any. */
  request(to: string, envelope: PeerEnvelope): Promise<Uint8Array | null>;
}

export class PeerLink {
  constructor(
    private readonly partyId: string,
    private readonly identity: SigningIdentity,
    private readonly transport: PeerTransport,
    private readonly audit: (jobId: string, event: AuditEventInput) => Promise<void>,
  ) {}

  async send(
    job: PartyJob,
    to: string,
    message: PeerMessage<unknown>,
    payload: unknown,
    out: MessageReceipt[],
  ): Promise<unknown> {
    const key = this.channelKey(job, to);
    const route = { jobId: job.id, type: message.type, from: this.partyId, to, seq: ++job.seq };
    const context = sealContext(route);
    const body = sealBody(key, packBody(payload), context);
    const header = { ...route, digest: digestHex(body) };
    const envelope: PeerEnvelope = { ...header, body, signature: this.identity.sign(envelopeSigningText(header)) };
    out.push({
      type: message.type,
      from: this.partyId,
      to,
      seq: envelope.seq,
      digest: envelope.digest,
      bytes: body.length,
    });
    await this.audit(job.id, {
      step: message.type,
      sender: this.partyId,
      receiver: to,
      messageDigest: envelope.digest,
      byteSize: body.length,
      detail: { seq: envelope.seq, signature: envelope.signature },
    });
    let reply: Uint8Array | null;
    try {
      reply = await this.transport.request(to, envelope);
    } catch (e) {
      // The failure belongs to the peer (or to whichever party it reports further on): the job names it.
      throw new PartyError(e instanceof Error ? e.message : String(e), failedAtOf(e) ?? to);
    }
    if (!reply) return undefined;
    const replyDigest = digestHex(reply);
    out.push({
      type: `${message.type}.reply`,
      from: to,
      to: this.partyId,
      seq: envelope.seq,
      digest: replyDigest,
      bytes: reply.length,
    });
    await this.audit(job.id, {
      step: `${message.type}.reply`,
      sender: to,
      receiver: this.partyId,
      messageDigest: replyDigest,
      byteSize: reply.length,
      detail: { seq: envelope.seq },
    });
    return unpackBody<unknown>(openBody(key, reply, `${context}|reply`));
  }

  /** Checks an envelope's address, roster, digest, signature and sequence, then opens its body. */
  accept(envelope: PeerEnvelope, job: PartyJob | undefined): { job: PartyJob; body: unknown; key: Uint8Array } {
    if (envelope.to !== this.partyId)
      throw new PartyError(`message addressed to ${envelope.to} reached ${this.partyId}`);
    if (!job) throw new PartyError(`message for unknown job ${envelope.jobId} refused`);
    const sender = job.roster.find((r) => r.partyId === envelope.from);
    if (envelope.from === this.partyId || !sender)
      throw new PartyError(`message from ${envelope.from}, who is not in job ${job.id}'s roster, refused`);
    if (digestHex(envelope.body) !== envelope.digest)
      throw new PartyError(`message ${envelope.type} from ${envelope.from}: digest does not match its body`);
    if (!verifySignature(sender.publicKey, envelopeSigningText(envelope), envelope.signature)) {
      throw new PartyError(
        `message ${envelope.type} claiming to be from ${envelope.from} is not signed by its key: refused`,
      );
    }
    const last = job.lastSeq.get(envelope.from) ?? 0;
    if (!(envelope.seq > last))
      throw new PartyError(`message ${envelope.type} from ${envelope.from} replayed (seq ${envelope.seq} <= ${last})`);
    job.lastSeq.set(envelope.from, envelope.seq);
    const key = this.channelKey(job, envelope.from);
    return { job, body: unpackBody<unknown>(openBody(key, envelope.body, sealContext(envelope))), key };
  }

  sealReply(key: Uint8Array, envelope: PeerEnvelope, reply: unknown): Uint8Array {
    return sealBody(key, packBody(reply), `${sealContext(envelope)}|reply`);
  }

  /**
   * A refused envelope goes into the log of the job it names, or, when this party does not know
   * that job, into the unattributed chain. Only header fields of a fixed shape are kept: a
   * forged header must not smuggle data into the log.
   */
  async recordRefusal(envelope: unknown, known: boolean, error: unknown): Promise<void> {
    const e = (typeof envelope === 'object' && envelope !== null ? envelope : {}) as Partial<
      Record<keyof PeerEnvelope, unknown>
    >;
    await this.audit(known ? String(e.jobId) : UNATTRIBUTED_JOB_ID, {
      step: 'peer.refused',
      sender: shortField(e.from),
      receiver: this.partyId,
      messageDigest: typeof e.digest === 'string' && /^[0-9a-f]{64}$/.test(e.digest) ? e.digest : null,
      byteSize: e.body instanceof Uint8Array ? e.body.length : 0,
      detail: {
        type: shortField(e.type),
        seq: Number.isSafeInteger(e.seq) ? Number(e.seq) : null,
        ...(known ? {} : { claimedJob: shortField(e.jobId) }),
        // Refusal messages name positions and fields, never values (they also reach the coordinator).
        reason: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
      },
    });
  }

  /** The AES key this party shares with `peer` for the job (derived once, from the roster keys). */
  channelKey(job: PartyJob, peer: string): Uint8Array {
    let key = job.channelKeys.get(peer);
    if (!key) {
      const entry = job.roster.find((r) => r.partyId === peer);
      if (!entry) throw new PartyError(`${peer} is not in job ${job.id}'s roster`);
      key = peerChannelKey(this.identity, this.partyId, peer, entry.publicKey, job.id);
      job.channelKeys.set(peer, key);
    }
    return key;
  }
}

/** A header field as the log may keep it: a short identifier, or "(malformed)". */
export function shortField(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v) ? v : '(malformed)';
}
