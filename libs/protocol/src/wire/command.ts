/**
 * A command from the coordinator to a party: its name and the schemas of its request and reply.
 * The same object types the coordinator's call, checks the body at the party's door and checks
 * the reply at the coordinator's, so no body is ever an unchecked `Record<string, unknown>`.
 * Model folders define their own commands (`split-lr/commands.ts`, …); the registry collects them.
 */
import { z } from 'zod';

export interface Command<Request, Reply> {
  readonly name: string;
  readonly request: z.ZodType<Request>;
  readonly reply: z.ZodType<Reply>;
}

export function defineCommand<Q extends z.ZodType, P extends z.ZodType>(
  name: string,
  request: Q,
  reply: P,
): Command<z.output<Q>, z.output<P>> {
  if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(name))
    throw new RangeError(`command name ${name} is not of the form <area>.<verb>`);
  return { name, request, reply } as Command<z.output<Q>, z.output<P>>;
}

/** Bytes as MessagePack delivers them (Node hands back Buffers, which are Uint8Arrays). */
export const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes');
export const jobId = z.string().min(1).max(128);
export const nonNegativeInt = z.number().int().nonnegative();
/** A command whose reply carries nothing but the party's message receipts. */
export const empty = z.object({});
export const jobRequest = z.object({ jobId });
export const round = z.object({ jobId, epoch: nonNegativeInt, batch: nonNegativeInt });
export const split = z.enum(['train', 'validation']);

/** Raised when a body does not match its command's schema: names the command and every field, never a value. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** `job.prepare: roster[0].publicKey: expected string, received number; …` */
export function describeIssues(what: string, error: z.ZodError): string {
  const issues = error.issues
    .slice(0, 5)
    .map((i) => `${fieldPath(i.path) || '(body)'}: ${i.message.replace(/^Invalid input: /, '')}`);
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return `${what}: ${issues.join('; ')}${more}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p).slice(0, 64)}`)).join('');
}

/** Parses `value` with the schema, or throws a WireError naming `what` and the fields at fault. */
export function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new WireError(describeIssues(what, r.error));
  return r.data;
}
