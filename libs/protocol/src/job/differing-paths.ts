import { canonicalJson } from '@vfl/audit';

/** Dotted paths at which two JSON values differ (arrays of one length by index), to name what changed. */
export function differingPaths(a: unknown, b: unknown, at = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length)
    return a.flatMap((v, i) => differingPaths(v, b[i], `${at}[${i}]`));
  if (isObject(a) && isObject(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return [at || '(all)'];
}
