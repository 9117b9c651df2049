/**
 * ID normalisation for alignment: one list of rules per job, applied in order by every party
 * before PSI, so " 138-0013-8000" at the bank and "+8613800138000" at the partner meet.
 *
 * Rules:
 *   trim              strip leading and trailing whitespace
 *   nfkc              Unicode NFKC (full-width digits and letters become ASCII)
 *   lowercase         lower case
 *   uppercase         upper case (for example the check character X of a national ID)
 *   strip-separators  remove whitespace and . - / ( ) inside the value
 *   phone:<CC>        E.164 with default country code CC (1–3 digits): "+" or "00" marks an
 *                     international number; otherwise it is national, a single trunk "0" is
 *                     dropped and +CC prepended. Must give 8–15 digits.
 *   sha256            replace the value by the hex SHA-256 of its UTF-8 bytes (for a party
 *                     that may only hold hashed national IDs: both sides then compare hashes)
 *
 * Errors name the rule, how many rows fail and the first row number, never a value: they reach
 * the coordinator, the API and the audit trail.
 */
import { createHash } from 'node:crypto';
import { DataValidationError } from './data-validation-error';

export type IdRule = 'trim' | 'nfkc' | 'lowercase' | 'uppercase' | 'strip-separators' | 'sha256' | `phone:${string}`;

const SIMPLE_RULES = ['trim', 'nfkc', 'lowercase', 'uppercase', 'strip-separators', 'sha256'] as const;
export const ID_RULE_NAMES = [...SIMPLE_RULES, 'phone:<country code>'] as const;
const PHONE_RULE = /^phone:([1-9][0-9]{0,2})$/;
/** One valid rule, for validating requests at the edge (the same rules parseIdRules accepts). */
export const ID_RULE_PATTERN = new RegExp(`^(${SIMPLE_RULES.join('|')}|phone:[1-9][0-9]{0,2})$`);
export const MAX_ID_RULES = 16;

/** Validates a rule list from a job spec; throws a RangeError naming the offending entry. */
export function parseIdRules(rules: unknown): IdRule[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw new RangeError('ID rules must be a list of rule names');
  if (rules.length > MAX_ID_RULES) throw new RangeError(`at most ${MAX_ID_RULES} ID rules, got ${rules.length}`);
  return rules.map((rule, i) => {
    if (typeof rule !== 'string') throw new RangeError(`ID rule ${i + 1} is not a string`);
    if ((SIMPLE_RULES as readonly string[]).includes(rule) || PHONE_RULE.test(rule)) return rule as IdRule;
    if (rule.startsWith('phone:'))
      throw new RangeError(
        `ID rule ${i + 1} "${rule.slice(0, 24)}": the country code must be 1-3 digits, e.g. phone:86`,
      );
    throw new RangeError(`unknown ID rule ${i + 1} "${rule.slice(0, 24)}" (known: ${ID_RULE_NAMES.join(', ')})`);
  });
}

const SEPARATORS = /[\s.\-/()]/g;

/** One rule applied to one value; null where the value cannot satisfy the rule. */
function applyRule(rule: IdRule, value: string): string | null {
  switch (rule) {
    case 'trim':
      return value.trim();
    case 'nfkc':
      return value.normalize('NFKC');
    case 'lowercase':
      return value.toLowerCase();
    case 'uppercase':
      return value.toUpperCase();
    case 'strip-separators':
      return value.replace(SEPARATORS, '');
    case 'sha256':
      return createHash('sha256').update(value, 'utf8').digest('hex');
    default: {
      const countryCode = PHONE_RULE.exec(rule)![1];
      const compact = value.replace(SEPARATORS, '');
      let digits: string;
      if (compact.startsWith('+')) digits = compact.slice(1);
      else if (compact.startsWith('00')) digits = compact.slice(2);
      else digits = countryCode + (compact.startsWith('0') ? compact.slice(1) : compact);
      return /^[1-9][0-9]{7,14}$/.test(digits) ? `+${digits}` : null;
    }
  }
}

/**
 * Applies the rules to every ID, in order. Refuses an ID that a rule rejects or that becomes
 * empty, and two rows that become the same ID (PSI needs a set).
 */
export function normaliseIds(ids: readonly string[], rules: readonly IdRule[], source = 'table'): string[] {
  if (rules.length === 0) return [...ids];
  const out = new Array<string>(ids.length);
  for (const [i, rule] of rules.entries()) {
    let failed = 0;
    let firstRow = 0;
    for (let row = 0; row < ids.length; row++) {
      const next = applyRule(rule, i === 0 ? ids[row] : out[row]);
      if (next === null || next.length === 0) {
        if (failed++ === 0) firstRow = row + 1;
        continue;
      }
      out[row] = next;
    }
    if (failed > 0) {
      throw new DataValidationError(
        'MISSING_ID',
        `ID rule "${rule}" leaves ${failed} row${failed === 1 ? '' : 's'} without a valid ID (first: data row ${firstRow})`,
        { file: source },
      );
    }
  }
  const firstRowOf = new Map<string, number>();
  let collisions = 0;
  let firstCollision: [number, number] | undefined;
  out.forEach((id, row) => {
    const earlier = firstRowOf.get(id);
    if (earlier === undefined) firstRowOf.set(id, row + 1);
    else if (collisions++ === 0) firstCollision = [earlier, row + 1];
  });
  if (firstCollision) {
    throw new DataValidationError(
      'DUPLICATE_ID',
      `after ID rules ${rules.join(', ')}, ${collisions} row${collisions === 1 ? '' : 's'} repeat another row's ID (first: data rows ${firstCollision[0]} and ${firstCollision[1]})`,
      { file: source },
    );
  }
  return out;
}
