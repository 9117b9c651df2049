/**
 * Bad party commands (over the signed coordinator channel) and bad peer messages (as another
 * party would send them), each with words of the refusal the party must answer. `ctx` gives the
 * keys and a job the bank has prepared with `mallory` (whose key the test holds) as its feature party.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SigningIdentity } from '@vfl/crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { signCommand } from '@vfl/protocol';
import { definePeerMessage } from '../../libs/protocol/src/wire/peer-envelope';
import type { RosterEntry } from '../../libs/protocol/src/wire/roster';
import { SECRET } from './secret';

export interface PartyContext {
  readonly coordinator: SigningIdentity;
  readonly mallory: SigningIdentity;
  readonly roster: RosterEntry[];
  /** A job the bank has prepared, with mallory as its feature party. */
  readonly jobId: string;
  /** Mallory's envelope for `jobId`, signed and sealed as a party sends it. */
  envelope(type: string, body: unknown, over?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface PartyCase {
  readonly name: string;
  readonly channel: 'command' | 'peer';
  /** Sent in turn; the last one's refusal is checked. */
  build(ctx: PartyContext): Promise<unknown[]> | unknown[];
  readonly words: readonly string[];
}

export const prepareBody = (
  ctx: PartyContext,
  over: Record<string, unknown> = {},
  data: Record<string, unknown> = {},
) => ({
  jobId: randomUUID(),
  model: 'split-lr',
  role: 'label',
  data: { path: 'train-bank.csv', labelColumn: 'default', ...data },
  roster: ctx.roster,
  alignment: { idRules: [], output: 'intersection', mode: 'balanced' },
  dataSettings: { validationFraction: 0.2, seed: 1, clipSigma: 3, batchSize: 256 },
  settings: DEFAULT_LR_HYPERPARAMETERS,
  ...over,
});
const command = (name: string, words: string[], build: (ctx: PartyContext) => unknown): PartyCase => ({
  name,
  channel: 'command',
  build: (ctx) => [build(ctx)],
  words,
});
const prepare = (name: string, words: string[], over: Record<string, unknown>, data: Record<string, unknown> = {}) =>
  command(name, words, (ctx) => signCommand(ctx.coordinator, 'bank', 'job.prepare', prepareBody(ctx, over, data)));
const peer = (name: string, words: string[], build: (ctx: PartyContext) => unknown): PartyCase => ({
  name,
  channel: 'peer',
  build: async (ctx) => [await build(ctx)],
  words,
});

export const PARTY_CASES: readonly PartyCase[] = [
  command('a bare object', ['not a signed command'], () => ({ command: 'job.prepare', body: {} })),
  command('null', ['invalid data'], () => null),
  command('a number', ['not a signed command'], () => 42),
  command('a string', ['not a signed command'], () => SECRET),
  command('a command signed by another key', ["job.prepare is not signed by the coordinator's key for bank"], (ctx) =>
    signCommand(ctx.mallory, 'bank', 'job.prepare', prepareBody(ctx)),
  ),
  command('a stale command', ['party.health is stale'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'party.health', {}, Date.now() - 3_600_000),
  ),
  command('a command addressed to another party', ['is not signed by'], (ctx) =>
    signCommand(ctx.coordinator, 'ecommerce', 'party.health', {}),
  ),
  command('a forged job id with a NUL byte', ['is not signed by'], (ctx) => ({
    ...signCommand(ctx.coordinator, 'bank', 'party.health', {}),
    jobId: `${SECRET}\u0000`,
  })),
  {
    name: 'a replayed command',
    channel: 'command',
    build: (ctx) => {
      const once = signCommand(ctx.coordinator, 'bank', 'party.health', {});
      return [once, once];
    },
    words: ['party.health replayed (nonce already used)'],
  },
  command('an unknown command', ['unknown command train.everything'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'train.everything', { jobId: randomUUID() }),
  ),
  command('job.prepare without a roster', ['job.prepare', 'roster'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'job.prepare', { ...prepareBody(ctx), roster: undefined }),
  ),
  prepare(
    'job.prepare with a path out of the root',
    ["is outside this party's data root"],
    {},
    { path: '../elsewhere/other.csv' },
  ),
  prepare(
    'job.prepare with a NUL byte in the path',
    ['data path contains a NUL byte'],
    {},
    { path: 'train-bank.csv\u0000.txt' },
  ),
  prepare(
    'job.prepare through a symlink to /etc/passwd',
    ["is outside this party's data root"],
    {},
    { path: 'passwd.csv' },
  ),
  prepare(
    'job.prepare of a file with a hexadecimal cell',
    ['line 7, column "income": not a decimal number'],
    {},
    { path: 'a-hexadecimal-cell.csv' },
  ),
  prepare(
    'job.prepare of a label column of one class',
    ['has the same label'],
    {},
    { path: 'a-label-column-of-one-class.csv' },
  ),
  prepare(
    'job.prepare with a label column holding a NUL byte',
    ['missing label column'],
    {},
    { labelColumn: 'de\u0000fault' },
  ),
  prepare('job.prepare as the feature party', ['to act as feature party, but it is configured as label'], {
    role: 'feature',
  }),
  prepare('job.prepare of an unknown model', ['bank does not serve model "gbdt-xl"'], { model: 'gbdt-xl' }),
  command('job.prepare whose roster lacks the bank', ["bank is not in the job's roster"], (ctx) =>
    signCommand(
      ctx.coordinator,
      'bank',
      'job.prepare',
      prepareBody(ctx, { roster: ctx.roster.map((r) => (r.partyId === 'bank' ? { ...r, partyId: 'carol' } : r)) }),
    ),
  ),
  command(
    'job.prepare listing another key for the bank',
    ["the job's roster lists another public key for bank"],
    (ctx) =>
      signCommand(
        ctx.coordinator,
        'bank',
        'job.prepare',
        prepareBody(ctx, {
          roster: ctx.roster.map((r) => (r.partyId === 'bank' ? { ...r, publicKey: ctx.mallory.publicKeyHex } : r)),
        }),
      ),
  ),
  command('psi.exchange for an unknown job', ['unknown job'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'psi.exchange', { jobId: randomUUID(), peer: 'mallory' }),
  ),
  command('psi.finish for an unknown job', ['unknown job'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'psi.finish', { jobId: randomUUID() }),
  ),
  command('a prepared job prepared again', ['is already known here'], (ctx) =>
    signCommand(ctx.coordinator, 'bank', 'job.prepare', prepareBody(ctx, { jobId: ctx.jobId })),
  ),

  peer('a null envelope', ['invalid data'], () => null),
  peer('an array envelope', ['peer envelope'], () => [SECRET]),
  peer('a string envelope', ['peer envelope'], () => SECRET),
  peer('an empty envelope', ['peer envelope', 'jobId'], () => ({})),
  peer('a sender with a NUL byte', ['expected a party id'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    from: `mal\u0000${SECRET}`,
  })),
  peer('a job id of free text', ['expected a job id'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    jobId: `${SECRET} and more`,
  })),
  peer('a malformed digest', ['expected a sha256 digest'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    digest: 'abc',
  })),
  peer('a type that is not a peer message', ['expected a peer message type'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    type: 'job.prepare',
  })),
  peer('a body that is not bytes', ['peer envelope', 'body'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    body: SECRET,
  })),
  peer('an unknown job', ['message for unknown job'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    jobId: randomUUID(),
  })),
  peer('a message addressed to another party', ['message addressed to ecommerce reached bank'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    to: 'ecommerce',
  })),
  peer('a sender outside the roster', ['who is not in job'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    from: 'eve',
  })),
  peer('a body that does not match its digest', ['digest does not match its body'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    body: new Uint8Array(64),
  })),
  peer('a forged signature', ['is not signed by its key'], async (ctx) => ({
    ...(await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) })),
    signature: '00'.repeat(64),
  })),
  peer('an unknown message type, well signed', ['unknown peer message type peer.nosuch.hello'], (ctx) =>
    ctx.envelope(definePeerMessage('peer.nosuch.hello', z.unknown()).type, { hello: SECRET }),
  ),
  peer('a well-signed message whose body breaks its schema', ['peer.psi.positions'], (ctx) =>
    ctx.envelope('peer.psi.positions', { positions: SECRET }),
  ),
  {
    name: 'a replayed envelope',
    channel: 'peer',
    build: async (ctx) => {
      const e = await ctx.envelope('peer.psi.positions', { positions: new Uint8Array(4) });
      return [e, e];
    },
    words: ['replayed'],
  },
];
