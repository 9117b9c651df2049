import { AuditChain, canonicalJson, ChainedAuditEvent, GENESIS_HASH, hashEvent, verifyChain } from '../src/audit-chain';

const clock = () => new Date('2026-11-22T00:00:00.000Z');

function chain(n: number): ChainedAuditEvent[] {
  const c = new AuditChain('7d3c1f52-2c1e-4a4b-9f7e-0d6a8c1b2e3f', undefined, clock);
  return Array.from({ length: n }, (_, i) =>
    c.append({
      step: 'lr.forward',
      sender: 'ecommerce',
      receiver: 'bank',
      messageDigest: 'a'.repeat(64),
      byteSize: 100 + i,
      detail: { epoch: 0, batch: i },
    }),
  );
}

describe(AuditChain.name, () => {
  it('links each event to the previous hash, from the genesis hash', () => {
    const events = chain(3);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    expect(events[1].prevHash).toBe(events[0].hash);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it('hashes the canonical event (known answer, pins the format)', () => {
    const [first] = chain(1);
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    expect(hashEvent(first)).toBe(first.hash);
    // sha256 of the canonical JSON below; changing the format breaks every stored chain.
    expect(first.hash).toBe('0ea94bf1ffceee5d8811aaea8c6b9108adbdfc48201c196229e1a882d4a8c26d');
  });

  it('verifies an intact chain', () => {
    expect(verifyChain(chain(5))).toEqual({ valid: true, events: 5, firstBroken: null });
  });

  it('names the first broken link for an altered, removed or reordered event', () => {
    const altered = chain(5).map((e) => (e.seq === 2 ? { ...e, byteSize: 1 } : e));
    expect(verifyChain(altered).firstBroken).toEqual({
      seq: 2,
      reason: 'hash does not match the event content (the row was altered)',
    });
    const removed = chain(5).filter((e) => e.seq !== 3);
    expect(verifyChain(removed).firstBroken).toEqual({
      seq: 4,
      reason: 'expected seq 3, found 4 (an event is missing or reordered)',
    });
    const relinked = chain(5);
    const forged = { ...relinked[1], prevHash: 'f'.repeat(64) };
    expect(
      verifyChain([relinked[0], { ...forged, hash: hashEvent(forged) }, ...relinked.slice(2)]).firstBroken?.seq,
    ).toBe(1);
  });
});
