/**
 * API keys for the coordinator's REST API. A key reads `vfl_<id>_<secret>`: the id (12 hex) finds
 * the stored row, the secret (32 random bytes, base64url) is never stored, only its sha256. A
 * plain hash is enough because the secret is random, not a password.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ROLES = ['admin', 'operator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

const KEY_PATTERN = /^vfl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  readonly keyId: string;
  readonly secret: string;
}

export interface IssuedApiKey extends ParsedApiKey {
  /** The full key, shown to its holder once. */
  readonly key: string;
  readonly secretHash: string;
}

export function isApiKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** @returns null when `value` is not shaped like a key (so callers answer 401, not 500). */
export function parseApiKey(value: string): ParsedApiKey | null {
  const m = KEY_PATTERN.exec(value);
  return m ? { keyId: m[1], secret: m[2] } : null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function issueApiKey(): IssuedApiKey {
  const keyId = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, key: `vfl_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

/** Constant-time comparison of a presented secret against a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
