/** Column selection by IV threshold, top-k per party and missing rate. */
import { EmptySelectionError, selectColumns, selectionSettings } from '../src';

const candidates = [
  { partyId: 'bank', column: 'a', index: 0, iv: 0.5, missingRate: 0 },
  { partyId: 'bank', column: 'b', index: 1, iv: 0.01, missingRate: 0 },
  { partyId: 'bank', column: 'c', index: 2, iv: 0.3, missingRate: 0.6 },
  { partyId: 'shop', column: 'x', index: 0, iv: 0.2 },
  { partyId: 'shop', column: 'y', index: 1, iv: 0.25 },
  { partyId: 'shop', column: 'z', index: 2, iv: 0.1 },
];

describe('selectColumns', () => {
  it('drops by missing rate, then IV, then keeps the top k per party', () => {
    const s = selectColumns(
      candidates,
      selectionSettings.parse({ minIv: 0.02, topKPerParty: 2, maxMissingRate: 0.5 }),
      ['bank', 'shop'],
    );
    expect(s.map((c) => [c.column, c.kept, c.reason])).toEqual([
      ['a', true, undefined],
      ['b', false, 'iv'],
      ['c', false, 'missing-rate'],
      ['x', true, undefined],
      ['y', true, undefined],
      ['z', false, 'top-k'],
    ]);
  });

  it('refuses a selection that keeps nothing of a party, naming it and its best column', () => {
    expect(() => selectColumns(candidates, selectionSettings.parse({ minIv: 0.4 }), ['bank', 'shop'])).toThrow(
      new EmptySelectionError(
        'selection keeps no column of party shop: its highest IV is 0.2500 (column y), minIv is 0.4',
      ),
    );
  });
});
