import { createHash } from 'node:crypto';
import { DataValidationError } from '../src/data-validation-error';
import { normaliseIds, parseIdRules } from '../src/id-normalisation';

describe('ID normalisation', () => {
  it('applies the rules in order', () => {
    expect(normaliseIds(['  Ab-12 ', 'CD.34'], parseIdRules(['trim', 'strip-separators', 'lowercase']))).toEqual([
      'ab12',
      'cd34',
    ]);
    expect(normaliseIds(['１２３ａ'], parseIdRules(['nfkc', 'uppercase']))).toEqual(['123A']);
    expect(normaliseIds(['11010519491231002x'], parseIdRules(['uppercase', 'sha256']))).toEqual([
      createHash('sha256').update('11010519491231002X').digest('hex'),
    ]);
  });

  it('brings national and international phone formats to one E.164 form', () => {
    const formats = ['138 0013 8000', '+86 138-0013-8000', '0086 (138) 0013 8000', '+8613800138000'];
    for (const f of formats) expect(normaliseIds([f], ['phone:86'])).toEqual(['+8613800138000']);
    // A national number with a trunk 0 (UK style).
    expect(normaliseIds(['020 7946 0958'], ['phone:44'])).toEqual(['+442079460958']);
  });

  it('names the rule, the count and the first row, never a value', () => {
    let error: unknown;
    try {
      normaliseIds(['13800138000', 'not-a-phone', '12'], ['phone:86'], 'bank.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as Error).message).toBe(
      'bank.csv: ID rule "phone:86" leaves 2 rows without a valid ID (first: data row 2)',
    );
    expect(() => normaliseIds(['a', '   '], ['trim'])).toThrow('leaves 1 row without a valid ID (first: data row 2)');
  });

  it('refuses rows that collapse into one ID', () => {
    let error: unknown;
    try {
      normaliseIds(['ABC', 'x', ' abc'], ['trim', 'lowercase'], 'shop.csv');
    } catch (e) {
      error = e;
    }
    expect((error as DataValidationError).code).toBe('DUPLICATE_ID');
    expect((error as Error).message).toBe(
      "shop.csv: after ID rules trim, lowercase, 1 row repeat another row's ID (first: data rows 1 and 3)",
    );
    expect((error as Error).message).not.toMatch(/abc/i);
  });

  it('validates rule lists from a job spec', () => {
    expect(parseIdRules(undefined)).toEqual([]);
    expect(() => parseIdRules('trim')).toThrow('must be a list');
    expect(() => parseIdRules(['trim', 'soundex'])).toThrow(
      'unknown ID rule 2 "soundex" (known: trim, nfkc, lowercase, uppercase, strip-separators, sha256, phone:<country code>)',
    );
    expect(() => parseIdRules(['phone:+86'])).toThrow('the country code must be 1-3 digits');
    expect(() => parseIdRules(new Array(17).fill('trim'))).toThrow('at most 16 ID rules');
  });
});
