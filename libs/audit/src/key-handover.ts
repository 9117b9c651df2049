/**
 * Which keys a verifier trusts: the root keys it was given, and every key a trusted key handed
 * over to in the ledger (a `key.rotated` row signed by the old key, naming the new one), in
 * ledger order, so a chain of rotations from a root is followed and nothing else is. A handover
 * signed by a key nobody trusts hands over nothing.
 */
import { verifySignature } from '@vfl/crypto';
import { ledgerSigningText, type LedgerRow } from './audit-ledger';

export interface TrustedKey {
  readonly publicKey: string;
  /** `root`, or the key and ledger row it was handed over from. */
  readonly via: 'root' | { readonly from: string; readonly ledgerSeq: number };
}

export function trustedKeyChain(ledger: readonly LedgerRow[], roots: readonly string[]): Map<string, TrustedKey> {
  const trusted = new Map<string, TrustedKey>(
    roots.map((k) => [k.toLowerCase(), { publicKey: k.toLowerCase(), via: 'root' as const }]),
  );
  for (const row of ledger) {
    if (row.kind !== 'key.rotated' || !trusted.has(row.publicKey)) continue;
    const to = String(row.detail.to);
    if (trusted.has(to) || !verifySignature(row.publicKey, ledgerSigningText(row), row.signature)) continue;
    trusted.set(to, { publicKey: to, via: { from: row.publicKey, ledgerSeq: row.seq } });
  }
  return trusted;
}

/** Every handover in the ledger, trusted or not, for the report. */
export function handovers(ledger: readonly LedgerRow[]): { ledgerSeq: number; from: string; to: string }[] {
  return ledger
    .filter((r) => r.kind === 'key.rotated')
    .map((r) => ({ ledgerSeq: r.seq, from: r.publicKey, to: String(r.detail.to) }));
}
