/**
 * The digest of a job's result as the `jobs` table holds it: sha256 of its canonical JSON (keys
 * sorted), computed from the JSON form, so the value written and the jsonb read back digest alike.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './audit-chain';

export function resultDigest(result: unknown): { digest: string; bytes: number } {
  const canonical = canonicalJson(JSON.parse(JSON.stringify(result ?? null)));
  return {
    digest: createHash('sha256').update(canonical, 'utf8').digest('hex'),
    bytes: Buffer.byteLength(canonical, 'utf8'),
  };
}
