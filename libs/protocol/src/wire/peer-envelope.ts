/**
 * Party-to-party messages: a signed header and a body sealed under the pair's channel key. Each
 * model folder defines its peer message types with the schema of their (opened) body.
 */
import { z } from 'zod';
import { bytes } from './command';

export interface PeerMessage<Body> {
  readonly type: string;
  readonly body: z.ZodType<Body>;
}

export function definePeerMessage<B extends z.ZodType>(type: string, body: B): PeerMessage<z.output<B>> {
  if (!/^peer\.[a-z][a-z0-9_.]*$/.test(type))
    throw new RangeError(`peer message type ${type} is not of the form peer.<area>.<name>`);
  return { type, body } as PeerMessage<z.output<B>>;
}

// Header fields appear in refusal messages and the party's log: plain names only (no NUL, no free text).
const partyName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a party id');

export const peerEnvelopeSchema = z.object({
  jobId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a job id'),
  type: z.string().regex(/^peer\.[a-z][a-z0-9_.]{0,63}$/, 'expected a peer message type'),
  from: partyName,
  to: partyName,
  /** Strictly increasing per (job, sender): a repeated or older seq is a replay. */
  seq: z.number().int().positive(),
  /** sha256 of `body`. */
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 digest'),
  /** The payload's MessagePack, sealed with AES-256-GCM under the pair's channel key. */
  body: bytes,
  /** The sender's ed25519 signature (hex) over `envelopeSigningText`. */
  signature: z.string().max(256),
});
export type PeerEnvelope = z.output<typeof peerEnvelopeSchema>;

/** Associated data of a sealed body: the route, so a body cannot be replayed under another header. */
export function sealContext(e: Pick<PeerEnvelope, 'jobId' | 'type' | 'from' | 'to' | 'seq'>): string {
  return `vfl-peer-body-v1|job=${e.jobId}|type=${e.type}|from=${e.from}|to=${e.to}|seq=${e.seq}`;
}

/** What a sender signs: everything that routes and orders the message, and the body's digest. */
export function envelopeSigningText(e: Omit<PeerEnvelope, 'body' | 'signature'>): string {
  return `vfl-peer-envelope-v1|job=${e.jobId}|type=${e.type}|from=${e.from}|to=${e.to}|seq=${e.seq}|digest=${e.digest}`;
}

/** What a sender reports about a message it sent, for the audit trail. */
export const messageReceipt = z.object({
  type: z.string().max(80),
  from: z.string().max(64),
  to: z.string().max(64),
  seq: z.number().int(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});
export type MessageReceipt = z.output<typeof messageReceipt>;
