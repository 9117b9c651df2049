import { randomBytes } from 'node:crypto';
import { digestIds } from '@vfl/crypto';
import {
  KkrtPsiReceiver,
  KkrtPsiSender,
  PsiProtocolError,
  runKkrtLocally,
  type IdSource,
  type KkrtMessage,
} from '@vfl/protocol';

const dst = new TextEncoder().encode('vfl-kkrt-psi-v1|job=test');
const list = (ids: string[]): IdSource => ({ size: ids.length, at: (i) => ids[i] });
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The reference computation: the plain intersection, in the agreed order. */
function plainIntersection(a: string[], b: string[]): string[] {
  const other = new Set(b);
  return a.filter((id) => other.has(id)).sort(byCodeUnits);
}

function ids(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(from + i).padStart(9, '0')}`);
}

describe('KKRT PSI', () => {
  it.each([
    ['equal sizes, half shared, several matrix and tag chunks', 3000, 3000, 1500, 256],
    ['receiver smaller than sender', 500, 4000, 200, 64],
    ['receiver larger than sender', 5000, 300, 300, 1024],
    ['nothing shared', 700, 900, 0, 128],
    ['one ID each, shared', 1, 1, 1, 32],
  ])('%s: both sides get the plain intersection in the agreed order', async (_what, nR, nS, shared, chunkBins) => {
    const common = ids('common', 0, shared);
    const r = [...ids('r-only', 0, nR - shared), ...common].sort(() => Math.random() - 0.5);
    const s = [...common, ...ids('s-only', 0, nS - shared)].sort(() => Math.random() - 0.5);
    const result = await runKkrtLocally(
      new KkrtPsiReceiver(list(r), dst, { chunkBins }),
      new KkrtPsiSender(list(s), dst),
    );
    const expected = plainIntersection(r, s);
    expect(result.receiver).toEqual(expected);
    expect(result.sender).toEqual(expected);
  });

  it('no ID, and no ID digest, appears in any recorded message', async () => {
    const r = ids('receiver-secret-row', 0, 2000);
    const s = [...ids('receiver-secret-row', 0, 1000), ...ids('sender-secret-row', 0, 1500)];
    const messages: KkrtMessage[] = [];
    await runKkrtLocally(new KkrtPsiReceiver(list(r), dst, { chunkBins: 512 }), new KkrtPsiSender(list(s), dst), (m) =>
      messages.push(m),
    );
    expect(new Set(messages.map((m) => m.step))).toEqual(new Set(['hello', 'respond', 'matrix', 'tags', 'positions']));
    const wire = Buffer.concat(messages.flatMap((m) => m.bytes.map((b) => Buffer.from(b))));
    const all = [...r, ...s];
    // Raw IDs as UTF-8, and the 16-byte items the OPRF is evaluated on (first half of each digest).
    const digests = digestIds(all.length, (i) => all[i], dst);
    for (let i = 0; i < all.length; i += 7) {
      expect(wire.includes(Buffer.from(all[i]))).toBe(false);
      expect(wire.includes(Buffer.from(digests.subarray(i * 32, i * 32 + 16)))).toBe(false);
    }
  });

  it('the sender refuses positions out of range, repeated or out of the agreed order', async () => {
    const setUp = async () => {
      const r = ids('x', 0, 50);
      const receiver = new KkrtPsiReceiver(list(r), dst, { chunkBins: 32 });
      const sender = new KkrtPsiSender(list(r), dst);
      receiver.start(sender.respond(receiver.hello()));
      for (let k = 0; k < receiver.chunks; k++) {
        const c = receiver.matrixChunk(k);
        sender.acceptMatrixChunk(c, c.data);
      }
      for (let k = 0; k < sender.tagChunks; k++) {
        const c = sender.tagChunk(k);
        receiver.acceptTags(c, c.data);
      }
      const { positions } = receiver.finish();
      return { sender, positions: new Uint32Array(positions.buffer, positions.byteOffset, positions.length / 4) };
    };
    const bad = async (edit: (p: Uint32Array) => Uint32Array, message: RegExp) => {
      const { sender, positions } = await setUp();
      const edited = edit(Uint32Array.from(positions));
      expect(() => sender.acceptPositions(new Uint8Array(edited.buffer))).toThrow(message);
    };
    await bad((p) => Uint32Array.of(p[0], 150), /entry 1 is out of range/);
    await bad((p) => Uint32Array.of(p[0], p[0]), /entry 1 repeats an ID/);
    await bad((p) => Uint32Array.of(p[1], p[0]), /entry 1 is not in the agreed order/);
  });

  it('the receiver refuses a tag stream that skips a chunk or miscounts the sender IDs', () => {
    const r = ids('y', 0, 40);
    const receiver = new KkrtPsiReceiver(list(r), dst, { chunkBins: 32 });
    const sender = new KkrtPsiSender(list(r), dst);
    receiver.start(sender.respond(receiver.hello()));
    for (let k = 0; k < receiver.chunks; k++) {
      const c = receiver.matrixChunk(k);
      sender.acceptMatrixChunk(c, c.data);
    }
    const c = sender.tagChunk(0);
    expect(() => receiver.acceptTags({ ...c, total: c.total + 3 }, c.data)).toThrow(PsiProtocolError);
    expect(() => receiver.acceptTags({ ...c, chunk: 1, chunks: 2 }, c.data)).toThrow(/expected 0/);
    expect(() => receiver.finish()).toThrow(/nothing arrived/);
  });

  it('the sender refuses a hello with a malformed seed or bin count', () => {
    const sender = new KkrtPsiSender(list(['a']), dst);
    const hello = new KkrtPsiReceiver(list(['a', 'b']), dst).hello();
    expect(() => sender.respond({ ...hello, seed: new Uint8Array(randomBytes(5)) })).toThrow(/seed must be 12 bytes/);
    expect(() => sender.respond({ ...hello, bins: 33 })).toThrow(/bins must be a positive multiple of 32/);
    expect(() => sender.respond({ ...hello, basePoint: new Uint8Array(32) })).toThrow(/not a valid edwards25519/);
  });
});
