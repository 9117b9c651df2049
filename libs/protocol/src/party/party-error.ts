/** Raised for anything a party refuses; the message is safe to show the coordinator's users. */
export class PartyError extends Error {
  constructor(
    message: string,
    /** Set when the failure happened at a peer this party was sending to (the transports carry it back). */
    readonly failedAt?: string,
  ) {
    super(message);
    this.name = 'PartyError';
  }
}

/** Where a failure happened, when a party reports it happened at a peer: from a PartyError, or from a remote error body. */
export function failedAtOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const here = (e as { failedAt?: unknown }).failedAt;
  const remote = (e as { remote?: { failedAt?: unknown } }).remote?.failedAt;
  const at = typeof here === 'string' ? here : remote;
  return typeof at === 'string' ? at : undefined;
}
