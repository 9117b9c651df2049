/**
 * Coordinator commands are signed. The coordinator signs each one over (receiving party, job,
 * command, nonce, issue time, body digest) with its ed25519 key; a party holds that key pinned in
 * its configuration and runs every command through a CommandGate, which refuses unsigned,
 * foreign-signed, replayed and stale commands and says which. The body travels as the MessagePack
 * bytes that were signed, so the digest is of exactly what arrives.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SigningIdentity, verifySignature } from '@vfl/crypto';
import { bytes, describeIssues } from './command';
import { decode, Encoder } from '@msgpack/msgpack';
import { digestHex } from './codec';

export const signedCommandSchema = z.object({
  command: z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'expected a command name'),
  /** The job the command belongs to ('' for commands outside any job, such as party.health). */
  jobId: z.string().max(128),
  nonce: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 hex characters'),
  /** Milliseconds since the epoch, at the coordinator. */
  issuedAt: z.number().int().nonnegative(),
  body: bytes,
  signature: z.string().regex(/^[0-9a-f]{128}$/, 'expected an ed25519 signature (128 hex)'),
});
export type SignedCommand = z.output<typeof signedCommandSchema>;

export function commandSigningText(
  c: Omit<SignedCommand, 'body' | 'signature'> & { readonly to: string; readonly digest: string },
): string {
  return `vfl-command-v1|to=${c.to}|job=${c.jobId}|command=${c.command}|nonce=${c.nonce}|issuedAt=${c.issuedAt}|digest=${c.digest}`;
}

/** Undefined fields are left out (not sent as nil), so an absent optional setting stays absent at the party. */
const commandEncoder = new Encoder({ ignoreUndefined: true });

/**
 * Nonces must never repeat, not be secret: a random 64-bit prefix per process and a counter
 * (one randomBytes call per process instead of one per command).
 */
const noncePrefix = randomBytes(8).toString('hex');
let nonceCounter = 0;

function nextNonce(): string {
  return noncePrefix + (nonceCounter++).toString(16).padStart(16, '0');
}

export function signCommand(
  identity: SigningIdentity,
  to: string,
  command: string,
  body: object,
  now = Date.now(),
): SignedCommand {
  const packed = commandEncoder.encode(body);
  const claimed = (body as { jobId?: unknown }).jobId;
  const header = { command, jobId: typeof claimed === 'string' ? claimed : '', nonce: nextNonce(), issuedAt: now };
  return {
    ...header,
    body: packed,
    signature: identity.sign(commandSigningText({ ...header, to, digest: digestHex(packed) })),
  };
}

/** Why a command was refused; the message names the check, never the body's content. */
export class CommandRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandRefusedError';
  }
}

export interface CommandGateOptions {
  readonly partyId: string;
  /** The coordinator's ed25519 public key (64 hex), pinned in the party's configuration. */
  readonly coordinatorKey?: string;
  /** A command issued more than this long ago, or this far in the future, is stale (clock skew included). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_COMMAND_MAX_AGE_MS = 5 * 60_000;

/** Checks a signed command and opens its body. Nonces are remembered for as long as a command could still be fresh. */
export class CommandGate {
  private readonly seen = new Map<string, number>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly o: CommandGateOptions) {
    this.maxAgeMs = o.maxAgeMs ?? DEFAULT_COMMAND_MAX_AGE_MS;
    this.now = o.now ?? Date.now;
  }

  /** @throws CommandRefusedError naming the failed check. */
  open(raw: unknown): { command: string; jobId: string; body: unknown } {
    const parsed = signedCommandSchema.safeParse(raw);
    if (!parsed.success)
      throw new CommandRefusedError(`not a signed command (${describeIssues('envelope', parsed.error)})`);
    const c = parsed.data;
    if (!this.o.coordinatorKey)
      throw new CommandRefusedError(
        `${this.o.partyId} has no coordinator key pinned (VFL_COORDINATOR_KEY): every command is refused`,
      );
    const digest = digestHex(c.body);
    if (
      !verifySignature(this.o.coordinatorKey, commandSigningText({ ...c, to: this.o.partyId, digest }), c.signature)
    ) {
      throw new CommandRefusedError(`${c.command} is not signed by the coordinator's key for ${this.o.partyId}`);
    }
    const now = this.now();
    if (Math.abs(now - c.issuedAt) > this.maxAgeMs)
      throw new CommandRefusedError(
        `${c.command} is stale (issued ${Math.round((now - c.issuedAt) / 1000)} s from now, at most ${this.maxAgeMs / 1000} s allowed)`,
      );
    this.forgetExpired(now);
    if (this.seen.has(c.nonce)) throw new CommandRefusedError(`${c.command} replayed (nonce already used)`);
    this.seen.set(c.nonce, c.issuedAt + this.maxAgeMs);
    let body: unknown;
    try {
      body = decode(c.body);
    } catch {
      throw new CommandRefusedError(`${c.command}: the body is not MessagePack`);
    }
    const claimed = (body as { jobId?: unknown } | null)?.jobId;
    if (claimed !== undefined && claimed !== c.jobId)
      throw new CommandRefusedError(`${c.command}: the body names another job than the signed header`);
    return { command: c.command, jobId: c.jobId, body };
  }

  private forgetExpired(now: number): void {
    // Insertion order is issue order to within the skew: stop at the first one still live.
    for (const [nonce, expires] of this.seen) {
      if (expires >= now - this.maxAgeMs) break;
      this.seen.delete(nonce);
    }
  }
}

/**
 * At most `perWindow` refusals a window are written out in full; the rest are counted, and the
 * next one written carries how many were suppressed. A flood of forged commands costs the party
 * a signature check each, not a database write each.
 */
export class RefusalRateLimiter {
  private windowStart = -Infinity;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow = 20,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Null: count it only. Otherwise write it, with the number suppressed since the last one written. */
  admit(): { suppressed: number } | null {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.perWindow) {
      this.suppressed++;
      return null;
    }
    this.written++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { suppressed };
  }

  get pending(): number {
    return this.suppressed;
  }
}

/** The two message patterns a party serves: signed coordinator commands, and peer envelopes. */
export const PARTY_COMMAND_PATTERN = 'party.command';
export const PARTY_PEER_PATTERN = 'party.peer';
