import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CountingPsiEngine, InlinePsiEngine, PsiEngine, WorkerPsiEngine, nobleX25519Group } from '@vfl/crypto';
import {
  EcdhPsiSession,
  exchangeLocally,
  psiDomainTag,
  PsiProtocolError,
  PsiSessionOptions,
} from '../src/psi/ecdh-psi';
import {
  exchangeUnbalancedLocally,
  PSI_TAG_BYTES,
  UnbalancedPsiBig,
  UnbalancedPsiSmall,
} from '../src/psi/unbalanced-psi';

const inline = new InlinePsiEngine();

async function run(
  a: string[],
  b: string[],
  engineA: PsiEngine = inline,
  engineB: PsiEngine = inline,
  options: PsiSessionOptions = {},
) {
  const dst = psiDomainTag('job-1');
  const alice = new EcdhPsiSession(engineA, a, dst, options);
  const bob = new EcdhPsiSession(engineB, b, dst, options);
  await exchangeLocally(alice, bob);
  return Promise.all([alice.finish(), bob.finish()]);
}

describe(EcdhPsiSession.name, () => {
  it('gives both sides exactly the intersection, in the same order, with equal digests', async () => {
    const a = Array.from({ length: 300 }, (_, i) => `138${String(i).padStart(8, '0')}`);
    const b = Array.from({ length: 200 }, (_, i) => `138${String(i + 150).padStart(8, '0')}`);
    const [ra, rb] = await run(a, b);
    const expected = a.filter((id) => b.includes(id)).sort();
    expect(ra.sharedIds).toEqual(expected);
    expect(rb.sharedIds).toEqual(expected);
    expect(ra.orderDigest).toBe(rb.orderDigest);
  });

  it('streams many chunks, spills to disk past its memory limit, and removes what it spilled', async () => {
    const spillDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-psi-test-'));
    try {
      const a = Array.from({ length: 2500 }, (_, i) => `a${i}`);
      const b = Array.from({ length: 1800 }, (_, i) => `a${i * 2}`);
      const dst = psiDomainTag('job-spill');
      const options = { messageElements: 256, spillAboveBytes: 8 * 1024, spillDir };
      const alice = new EcdhPsiSession(inline, a, dst, options);
      const bob = new EcdhPsiSession(inline, b, dst, options);
      expect(alice.chunkCount).toBe(10);
      await exchangeLocally(alice, bob);
      expect(fs.readdirSync(spillDir).length).toBe(2 * 2); // each party's own and peer stores spilled
      expect(alice.progress()).toEqual({ ownDone: 2500, ownTotal: 2500, peerDone: 1800, peerTotal: 1800 });
      const [ra, rb] = await Promise.all([alice.finish(), bob.finish()]);
      expect(ra.sharedIds).toEqual(b.filter((id) => Number(id.slice(1)) < 2500).sort());
      expect(rb.orderDigest).toBe(ra.orderDigest);
      expect(fs.readdirSync(spillDir)).toEqual([]);
    } finally {
      fs.rmSync(spillDir, { recursive: true, force: true });
    }
  });

  it('interoperates across engines: noble reference on one side, libsodium worker threads on the other', async () => {
    const workers = new WorkerPsiEngine(2);
    try {
      // More than one engine chunk per message, so chunks run on both workers and are reassembled in order.
      const a = Array.from({ length: 5000 }, (_, i) => `id-${i}`);
      const b = Array.from({ length: 40 }, (_, i) => `id-${i * 150}`);
      const [ra, rb] = await run(a, b, workers, new InlinePsiEngine(nobleX25519Group));
      expect(ra.sharedIds).toEqual(b.filter((id) => a.includes(id)).sort());
      expect(rb.sharedIds).toEqual(ra.sharedIds);
      expect(ra.orderDigest).toBe(rb.orderDigest);
    } finally {
      await workers.close();
    }
  });

  it('returns an empty intersection for disjoint sets', async () => {
    const [ra, rb] = await run(['1', '2'], ['3', '4']);
    expect(ra.sharedIds).toEqual([]);
    expect(rb.sharedIds).toEqual([]);
  });

  it('does not match across jobs (domain separation)', async () => {
    const alice = new EcdhPsiSession(inline, ['x', 'y'], psiDomainTag('job-1'));
    const bob = new EcdhPsiSession(inline, ['x', 'y'], psiDomainTag('job-2'));
    await exchangeLocally(alice, bob);
    expect((await alice.finish()).sharedIds).toEqual([]);
  });

  it('refuses an empty set, malformed chunks, a wrong-length answer and low-order points', async () => {
    const dst = psiDomainTag('j');
    expect(() => new EcdhPsiSession(inline, [], dst)).toThrow('cannot run PSI on an empty ID set');
    const s = new EcdhPsiSession(inline, ['a', 'b'], dst);
    const header = { chunk: 0, chunks: 1, total: 1 };
    await expect(s.blindPeerChunk(header, new Uint8Array(33))).rejects.toThrow('length 33 is not a multiple of 32');
    await expect(s.blindPeerChunk({ chunk: 0, chunks: 1, total: 0 }, new Uint8Array(32))).rejects.toThrow(
      'header is malformed',
    );
    await expect(s.blindPeerChunk(header, new Uint8Array(0))).rejects.toThrow(PsiProtocolError);
    await expect(s.blindPeerChunk(header, new Uint8Array(32))).rejects.toThrow(
      'peer chunk 0: peer element 0: element is of low order',
    );
    expect(() => s.acceptOwnChunk(0, new Uint8Array(32))).toThrow('has 1 elements, expected 2');
    expect(() => s.acceptOwnChunk(1, new Uint8Array(64))).toThrow('arrived, expected chunk 0');
    await expect(s.finish()).rejects.toThrow('before both directions');
    s.dispose();
    await expect(s.blindOwnChunk(0)).rejects.toThrow('already finished or closed');
  });

  it('refuses a peer stream that skips, replays, changes its size or overruns it', async () => {
    const dst = psiDomainTag('j');
    const sender = new EcdhPsiSession(
      inline,
      Array.from({ length: 10 }, (_, i) => `s${i}`),
      dst,
      { messageElements: 4 },
    );
    const chunks = await Promise.all([0, 1, 2].map((k) => sender.blindOwnChunk(k)));
    const receiver = () => new EcdhPsiSession(inline, ['r'], dst);

    await expect(receiver().blindPeerChunk({ chunk: 1, chunks: 3, total: 10 }, chunks[1])).rejects.toThrow(
      'starts at chunk 1, expected 0',
    );
    const r = receiver();
    await r.blindPeerChunk({ chunk: 0, chunks: 3, total: 10 }, chunks[0]);
    await expect(r.blindPeerChunk({ chunk: 0, chunks: 3, total: 10 }, chunks[0])).rejects.toThrow(
      'replayed or out of order',
    );
    await expect(r.blindPeerChunk({ chunk: 1, chunks: 3, total: 12 }, chunks[1])).rejects.toThrow(
      'announced list size changed mid-stream',
    );
    await r.blindPeerChunk({ chunk: 1, chunks: 3, total: 10 }, chunks[1]);
    await expect(r.blindPeerChunk({ chunk: 2, chunks: 3, total: 10 }, chunks[0])).rejects.toThrow(
      'hold more than the 10 elements announced',
    );
    const short = receiver();
    await expect(short.blindPeerChunk({ chunk: 0, chunks: 1, total: 10 }, chunks[0])).rejects.toThrow(
      'peer: last chunk leaves the list at 4 elements, 10 announced',
    );
    // A peer that stops mid-stream: finishing is refused, not a partial intersection.
    await expect(r.finish()).rejects.toThrow('before both directions');
  });

  it('cardinality mode: the counter learns |X ∩ Y| from answers it cannot link to its IDs', async () => {
    const dst = psiDomainTag('job-count');
    const x = Array.from({ length: 1500 }, (_, i) => `c${i}`);
    const y = Array.from({ length: 700 }, (_, i) => `c${i * 3}`); // 500 of them below 1500
    const options = { messageElements: 512 };
    const counter = new EcdhPsiSession(inline, x, dst, options);
    const helper = new EcdhPsiSession(inline, y, dst, options);
    const kept: Uint8Array[] = [];
    for (let k = 0; k < counter.chunkCount; k++) {
      kept.push(await helper.blindPeerChunk(counter.header(k), await counter.blindOwnChunk(k)));
      counter.markOwnChunkDelivered(k);
    }
    for (let k = 0; k < helper.chunkCount; k++) {
      await counter.blindPeerChunk(helper.header(k), await helper.blindOwnChunk(k));
      helper.markOwnChunkDelivered(k);
    }
    const answers: Uint8Array[] = [];
    for await (const { header, elements } of helper.answerChunks()) {
      counter.acceptAnswerChunk(header, elements);
      answers.push(elements);
    }
    // The answers are the helper's doubly blinded values of our list, but in another order.
    const hex = (parts: Uint8Array[]) =>
      parts.flatMap((p) =>
        Array.from({ length: p.length / 32 }, (_, i) => Buffer.from(p.subarray(i * 32, i * 32 + 32)).toString('hex')),
      );
    expect(new Set(hex(answers))).toEqual(new Set(hex(kept)));
    expect(hex(answers)).not.toEqual(hex(kept));
    expect(await counter.finishCardinality()).toBe(500);
  });

  it("star mode: the label party matches its IDs to positions in the peer's stream; the peer maps positions to its IDs", async () => {
    const dst = psiDomainTag('job-star');
    const x = Array.from({ length: 900 }, (_, i) => `s${i}`);
    const y = Array.from({ length: 400 }, (_, i) => `s${i * 4}`); // 225 of them below 900
    const options = { messageElements: 128 };
    const label = new EcdhPsiSession(inline, x, dst, { ...options, peerPositions: true });
    const feature = new EcdhPsiSession(inline, y, dst, { ...options, keepPeerSet: false });
    for (let k = 0; k < label.chunkCount; k++)
      label.acceptOwnChunk(k, await feature.blindPeerChunk(label.header(k), await label.blindOwnChunk(k)));
    for (let k = 0; k < feature.chunkCount; k++) {
      await label.blindPeerChunk(feature.header(k), await feature.blindOwnChunk(k));
      feature.markOwnChunkDelivered(k);
    }
    const matches = await label.matchPeerPositions();
    expect([...matches.keys()].map((i) => x[i]).sort()).toEqual(y.filter((id) => x.includes(id)).sort());
    const someMatched = [...matches].slice(0, 30);
    expect(feature.idsAtPositions(Uint32Array.from(someMatched, ([, p]) => p))).toEqual(someMatched.map(([i]) => x[i]));
  });

  it('star mode refuses positions out of range or repeated, and matching in a session that kept no positions', async () => {
    const dst = psiDomainTag('j');
    const make = () => {
      const a = new EcdhPsiSession(inline, ['a', 'b'], dst);
      const b = new EcdhPsiSession(inline, ['a', 'c'], dst);
      return exchangeLocally(a, b).then(() => [a, b]);
    };
    const [a] = await make();
    expect(() => a.idsAtPositions(Uint32Array.of(5))).toThrow('position 0 is 5, past our 2 elements');
    const [c] = await make();
    expect(() => c.idsAtPositions(Uint32Array.of(1, 1))).toThrow('position 1 appears twice');
    const [d] = await make();
    await expect(d.matchPeerPositions()).rejects.toThrow('keeps no peer positions');
  });

  it('cardinality mode refuses answers of the wrong size and counting before the answers are in', async () => {
    const dst = psiDomainTag('j');
    const counter = new EcdhPsiSession(inline, ['a', 'b'], dst);
    expect(() => counter.acceptAnswerChunk({ chunk: 0, chunks: 1, total: 3 }, new Uint8Array(96))).toThrow(
      'peer answers 3 elements, but our list has 2',
    );
    await expect(counter.finishCardinality()).rejects.toThrow('before the lists and the answers were exchanged');
    const helper = new EcdhPsiSession(inline, ['a'], dst);
    await expect(helper.answerChunks().next()).rejects.toThrow("before the peer's whole list has arrived");
  });

  it('names the first bad element of a peer chunk processed by worker threads', async () => {
    const workers = new WorkerPsiEngine(2);
    try {
      const s = new EcdhPsiSession(workers, ['a'], psiDomainTag('j'));
      const good = await new EcdhPsiSession(
        inline,
        Array.from({ length: 5000 }, (_, i) => `x${i}`),
        psiDomainTag('j'),
      ).blindOwnChunk(0);
      good[4500 * 32 + 31] |= 0x80; // element 4500 (second engine chunk): top bit set
      await expect(s.blindPeerChunk({ chunk: 0, chunks: 1, total: 5000 }, good)).rejects.toThrow(
        'peer element 4500: element has the top bit set',
      );
    } finally {
      await workers.close();
    }
  });
});

describe('unbalanced mode (UnbalancedPsiSmall / UnbalancedPsiBig)', () => {
  const sizes = (small: number, big: number, every: number) => ({
    s: Array.from({ length: small }, (_, i) => `u${i * every}`),
    b: Array.from({ length: big }, (_, i) => `u${i}`),
  });

  it('gives both sides exactly the intersection in the agreed order; the small side does O(|S|) group operations', async () => {
    const { s, b } = sizes(300, 6000, 37); // shared: multiples of 37 below 6000 -> 163
    const expected = s.filter((id) => Number(id.slice(1)) < 6000).sort();
    const smallEngine = new CountingPsiEngine(inline);
    const bigEngine = new CountingPsiEngine(inline);
    const dst = psiDomainTag('job-unbalanced');
    const options = { messageElements: 1024 };
    const small = new UnbalancedPsiSmall(smallEngine, s, dst, options, b.length);
    const big = new UnbalancedPsiBig(bigEngine, b, dst, options, s.length);
    const { bytes } = await exchangeUnbalancedLocally(small, big);
    const result = small.finish();
    expect(result.sharedIds).toEqual(expected);
    expect(big.idsAtPositions(result.peerPositions)).toEqual(expected);
    // S: |S| hashes, |S| blindings, |S| unblindings; B: |S| answers, |B| hashes and blindings.
    expect(smallEngine.groupOps).toBe(3 * s.length);
    expect(bigEngine.groupOps).toBe(s.length + 2 * b.length);
    // 32 bytes each way per small-side ID, PSI_TAG_BYTES per big-side ID.
    expect(bytes).toBe(64 * s.length + PSI_TAG_BYTES * b.length);
  });

  it('matches the balanced protocol on the same sets, with libsodium workers on one side and the noble reference on the other', async () => {
    const workers = new WorkerPsiEngine(2);
    try {
      const { s, b } = sizes(120, 5000, 53);
      const dst = psiDomainTag('job-cross');
      const small = new UnbalancedPsiSmall(new InlinePsiEngine(nobleX25519Group), s, dst);
      const big = new UnbalancedPsiBig(workers, b, dst);
      await exchangeUnbalancedLocally(small, big);
      const result = small.finish();
      const [balanced] = await run(s, b);
      expect(result.sharedIds).toEqual(balanced.sharedIds);
      expect(big.idsAtPositions(result.peerPositions)).toEqual(balanced.sharedIds);
    } finally {
      await workers.close();
    }
  });

  it('takes tags before its own answers are ready (kept, spilled, then matched), and removes what it spilled', async () => {
    const spillDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-psi-test-'));
    try {
      const { s, b } = sizes(50, 3000, 7);
      const dst = psiDomainTag('job-early');
      const options = { messageElements: 256, spillAboveBytes: 4096, spillDir };
      const small = new UnbalancedPsiSmall(inline, s, dst, options);
      const big = new UnbalancedPsiBig(inline, b, dst, options);
      for (let k = 0; k < big.chunkCount; k++) {
        small.acceptPeerTags(big.header(k), await big.tagChunk(k));
        big.markChunkSent(k);
      }
      expect(fs.readdirSync(spillDir).length).toBe(1);
      expect(() => small.finish()).toThrow('before the peer answered all our chunks (0 of 50 elements)');
      const small2 = new UnbalancedPsiSmall(inline, s, dst, options);
      const big2 = new UnbalancedPsiBig(inline, b, dst, options);
      for (let k = 0; k < big2.chunkCount; k++) {
        small2.acceptPeerTags(big2.header(k), await big2.tagChunk(k));
        big2.markChunkSent(k);
      }
      for (let k = 0; k < small2.chunkCount; k++)
        await small2.acceptAnswer(k, await big2.answerQuery(small2.header(k), await small2.blindOwnChunk(k)));
      const result = small2.finish();
      expect(result.sharedIds).toEqual(s.filter((id) => Number(id.slice(1)) < 3000).sort());
      expect(big2.idsAtPositions(result.peerPositions)).toEqual(result.sharedIds);
      expect(fs.readdirSync(spillDir)).toEqual([]);
    } finally {
      fs.rmSync(spillDir, { recursive: true, force: true });
    }
  });

  it("does not match across jobs, and shuffles the big side's stream", async () => {
    const { s, b } = sizes(20, 500, 1);
    const small = new UnbalancedPsiSmall(inline, s, psiDomainTag('job-1'));
    const big = new UnbalancedPsiBig(inline, b, psiDomainTag('job-2'));
    await exchangeUnbalancedLocally(small, big);
    expect(small.finish().sharedIds).toEqual([]);
    const a = new UnbalancedPsiSmall(inline, s, psiDomainTag('j'));
    const c = new UnbalancedPsiBig(inline, b, psiDomainTag('j'));
    await exchangeUnbalancedLocally(a, c);
    const positions = Array.from(a.finish().peerPositions);
    // The shared IDs are b[0..19]; unshuffled they would sit at positions 0..19 in sorted-ID order.
    expect(positions).not.toEqual(s.map((id) => b.indexOf(id)).sort((x, y) => x - y));
  });

  it('refuses invalid or low-order points, wrong chunk sizes and a stream announcing another size', async () => {
    const dst = psiDomainTag('j');
    const small = new UnbalancedPsiSmall(inline, ['a', 'b'], dst, {}, 3);
    const big = new UnbalancedPsiBig(inline, ['a', 'c', 'd'], dst, {}, 2);
    const header = { chunk: 0, chunks: 1, total: 2 };
    await expect(big.answerQuery(header, new Uint8Array(64))).rejects.toThrow(
      'peer query chunk 0: peer element 0: element is of low order',
    );
    const big2 = new UnbalancedPsiBig(inline, ['a'], dst, {}, 2);
    const bad = new Uint8Array(64).fill(0xff);
    await expect(big2.answerQuery(header, bad)).rejects.toThrow('peer element 0: element has the top bit set');
    await expect(
      new UnbalancedPsiBig(inline, ['a'], dst, {}, 2).answerQuery(
        { chunk: 0, chunks: 1, total: 5 },
        new Uint8Array(160),
      ),
    ).rejects.toThrow('query stream announces 5 elements, but the peer reported 2 rows');
    await expect(small.acceptAnswer(0, new Uint8Array(32))).rejects.toThrow(
      'answer to chunk 0 has 1 elements, expected 2',
    );
    await expect(small.acceptAnswer(0, new Uint8Array(33))).rejects.toThrow('length 33 is not a multiple of 32');
    await expect(new UnbalancedPsiSmall(inline, ['a', 'b'], dst).acceptAnswer(0, new Uint8Array(64))).rejects.toThrow(
      "peer's answer to chunk 0: peer element 0: element is of low order",
    );
    expect(() =>
      small.acceptPeerTags({ chunk: 0, chunks: 1, total: 3 }, new Uint8Array(PSI_TAG_BYTES * 3 + 1)),
    ).toThrow(`is not a multiple of ${PSI_TAG_BYTES}`);
    expect(() => small.acceptPeerTags({ chunk: 0, chunks: 1, total: 4 }, new Uint8Array(PSI_TAG_BYTES * 4))).toThrow(
      'announces 4 elements, but the peer reported 3 rows',
    );
    expect(() => new UnbalancedPsiSmall(inline, [], dst)).toThrow('cannot run PSI on an empty ID set');
    expect(() => new UnbalancedPsiSmall(inline, ['a'], dst, { tagBytes: 4 })).toThrow(
      'tagBytes must be an integer in 8..32',
    );
  });

  it('refuses positions out of range, repeated or out of the agreed order, and a peer that stopped mid-stream', async () => {
    const dst = psiDomainTag('j');
    const make = async () => {
      const small = new UnbalancedPsiSmall(inline, ['a', 'b', 'c'], dst);
      const big = new UnbalancedPsiBig(inline, ['a', 'b', 'c', 'd'], dst);
      await exchangeUnbalancedLocally(small, big);
      return { small, big };
    };
    const { small, big } = await make();
    const { peerPositions } = small.finish();
    expect(() => big.idsAtPositions(Uint32Array.of(9))).toThrow('position 0 is 9, past our 4 elements');
    const second = await make();
    second.small.dispose();
    expect(() => second.big.idsAtPositions(Uint32Array.of(peerPositions[0], peerPositions[0]))).toThrow(
      /appears twice|past/,
    );
    const third = await make();
    const r = third.small.finish();
    expect(() => third.big.idsAtPositions(Uint32Array.from(r.peerPositions).reverse())).toThrow(
      'not in the agreed order',
    );
    const fourth = await make();
    fourth.small.dispose();
    expect(() => fourth.big.idsAtPositions(Uint32Array.of(0, 1, 2, 3, 0))).toThrow(
      '5 positions, but the peer queried only 3 IDs',
    );

    // Stops mid-stream: the tag stream ends after its first of three chunks.
    const s = new UnbalancedPsiSmall(inline, ['a'], dst, { messageElements: 2 });
    const b = new UnbalancedPsiBig(inline, ['a', 'b', 'c', 'd', 'e'], dst, { messageElements: 2 });
    await s.acceptAnswer(0, await b.answerQuery(s.header(0), await s.blindOwnChunk(0)));
    s.acceptPeerTags(b.header(0), await b.tagChunk(0));
    expect(() => s.finish()).toThrow(
      "before the peer's tag stream was complete (peer's tag stream: 1 of 3 chunks (2 of 5 elements) arrived)",
    );
    expect(() => b.idsAtPositions(new Uint32Array(0))).toThrow('before our tag stream was sent (0 of 3 chunks)');
  });

  it('refuses a tag stream that repeats a value', async () => {
    const dst = psiDomainTag('j');
    const small = new UnbalancedPsiSmall(inline, ['a', 'b'], dst);
    const big = new UnbalancedPsiBig(inline, ['a', 'b'], dst);
    await small.acceptAnswer(0, await big.answerQuery(small.header(0), await small.blindOwnChunk(0)));
    const tags = await big.tagChunk(0);
    const repeated = new Uint8Array(tags.length * 2);
    repeated.set(tags);
    repeated.set(tags, tags.length);
    expect(() => small.acceptPeerTags({ chunk: 0, chunks: 1, total: 4 }, repeated)).toThrow(
      "peer's tag stream repeats a value",
    );
  });
});
