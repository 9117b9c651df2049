import { randomBytes } from 'node:crypto';
import { columnsToRows, transpose32 } from '../src/kkrt-bits';
import { BaseOtReceiver, BaseOtSender } from '../src/kkrt-base-ot';
import { buildCuckooTable, cuckooBin, cuckooBinCount, digestIds } from '../src/kkrt-cuckoo';
import { KKRT_ROW_WORDS, KKRT_WIDTH, KkrtOprfReceiver, KkrtOprfSender, kkrtHashKey, kkrtTags } from '../src/kkrt-oprf';
import { createHash } from 'node:crypto';

const bit = (a: Uint32Array, i: number) => (a[i >>> 5] >>> (i & 31)) & 1;
const randomWords = (n: number) => new Uint32Array(randomBytes(4 * n).buffer);

describe('bit-matrix transpose', () => {
  it('transpose32 swaps bit c of word r with bit r of word c', () => {
    const a = randomWords(32);
    const t = Uint32Array.from(a);
    transpose32(t);
    for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) expect((t[c] >>> r) & 1).toBe((a[r] >>> c) & 1);
  });

  it('columnsToRows matches the bit-by-bit definition (512 columns x 96 rows)', () => {
    const rows = 96;
    const columns = randomWords((KKRT_WIDTH * rows) / 32);
    const out = columnsToRows(columns, rows, KKRT_WIDTH, new Uint32Array(columns.length));
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < KKRT_WIDTH; j += 7) expect(bit(out, r * KKRT_WIDTH + j)).toBe(bit(columns, j * rows + r));
  });
});

describe('Chou-Orlandi base OT', () => {
  it('gives the receiver exactly the key of its choice', () => {
    const sender = new BaseOtSender();
    const choices = Array.from({ length: 16 }, (_, i) => ((i * 5) % 3) & 1);
    const { packedB, keys } = new BaseOtReceiver().choose(sender.publicPoint, choices);
    const { k0, k1 } = sender.keys(packedB, choices.length);
    choices.forEach((c, i) => {
      expect(Buffer.from(keys[i]).equals(Buffer.from(c ? k1[i] : k0[i]))).toBe(true);
      expect(Buffer.from(keys[i]).equals(Buffer.from(c ? k0[i] : k1[i]))).toBe(false);
    });
  });

  it('refuses a point that is not a group element, naming the OT', () => {
    expect(() => new BaseOtReceiver().choose(new Uint8Array(32), [0])).toThrow(/not a valid edwards25519/);
    const sender = new BaseOtSender();
    const bad = new Uint8Array(64);
    bad.set(new BaseOtReceiver().choose(sender.publicPoint, [1]).packedB);
    expect(() => sender.keys(bad, 2)).toThrow(/base OT 1:/);
  });
});

describe('ID digests and cuckoo hashing', () => {
  const dst = new TextEncoder().encode('vfl-kkrt-test');

  it('digest(id) = SHA-256(len(dst) || dst || id)', () => {
    const ids = ['', 'abc', '13800138000', 'é'.repeat(40)];
    const d = digestIds(ids.length, (i) => ids[i], dst);
    ids.forEach((id, i) => {
      const expected = createHash('sha256')
        .update(Buffer.from([dst.length]))
        .update(dst)
        .update(id)
        .digest('hex');
      expect(Buffer.from(d.subarray(i * 32, i * 32 + 32)).toString('hex')).toBe(expected);
    });
  });

  it('places every item once, each in one of its own three bins', () => {
    const n = 20_000;
    const d = digestIds(n, (i) => `id-${i}`, dst);
    const table = buildCuckooTable(d, n, () => new Uint8Array(randomBytes(16)));
    expect(table.bins).toBe(cuckooBinCount(n));
    const w = new Uint32Array(d.buffer, d.byteOffset, n * 8);
    const seen = new Uint8Array(n);
    for (let b = 0; b < table.bins; b++) {
      const item = table.binItem[b];
      if (item < 0) continue;
      seen[item]++;
      expect(cuckooBin(w, item, table.binHash[b], table.seed, table.bins)).toBe(b);
    }
    expect(seen.every((v) => v === 1)).toBe(true);
  });

  it('refuses a list with a repeated ID (insertion cannot succeed under any seed)', () => {
    const ids = ['x', 'x', 'x', 'x'];
    const d = digestIds(ids.length, (i) => ids[i], dst);
    expect(() => buildCuckooTable(d, ids.length, () => new Uint8Array(randomBytes(16)))).toThrow(/repeated IDs/);
  });
});

describe('KKRT OPRF', () => {
  it('the sender evaluates F(i, y) equal to the receiver output exactly when y is the bin item', () => {
    const receiver = new KkrtOprfReceiver();
    const sender = new KkrtOprfSender();
    receiver.start(sender.respond(receiver.basePoint), sender.codeKey);
    const count = 64;
    const items = randomWords(count * 8);
    const { u, t } = receiver.chunk(items, count);
    const q = sender.chunk(u, count);
    const key = kkrtHashKey(new Uint8Array([1, 2, 3]));
    const bins = Array.from({ length: count }, (_, i) => i);
    const hashes = bins.map((i) => i % 3);
    const own = new Uint32Array(count * 3);
    kkrtTags(key, t, bins, hashes, count, own);
    // Same items at the same bins: equal tags; the neighbour's item: different tags.
    const same = sender.evaluate(q, bins, items, bins, count);
    const other = sender.evaluate(
      q,
      bins,
      items,
      bins.map((i) => (i + 1) % count),
      count,
    );
    const sameTags = new Uint32Array(count * 3);
    const otherTags = new Uint32Array(count * 3);
    kkrtTags(key, same, bins, hashes, count, sameTags);
    kkrtTags(key, other, bins, hashes, count, otherTags);
    expect(Buffer.from(sameTags.buffer).equals(Buffer.from(own.buffer))).toBe(true);
    for (let i = 0; i < count; i++) expect(otherTags[i * 3]).not.toBe(own[i * 3]);
    // q differs from t (by C(x) & s): the sender's rows alone are not the receiver's outputs.
    expect(Buffer.from(q.buffer).equals(Buffer.from(t.buffer))).toBe(false);
    expect(q.length).toBe(count * KKRT_ROW_WORDS);
  });
});
