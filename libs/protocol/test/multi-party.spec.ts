/**
 * One label party and two feature parties, in one process, with real PSI (star mode) and real
 * CKKS: the breast cancer data with the host's 20 columns split over two parties, each of which
 * lacks some of the bank's customers and holds customers of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEventInput } from '@vfl/audit';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import { EcdhPsiSession } from '../src/psi/ecdh-psi';
import { InProcessFederation, runInProcessJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import { isSplitLrResult, SplitLrJobResult } from '../src';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const hp: LrHyperparameters = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 3,
  batchSize: 128,
  learningRate: 0.05,
  seed: 11,
};

describe('split LR with two feature parties', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-three-'));
  let federation: InProcessFederation;
  let result: SplitLrJobResult;
  let expected: string[];
  let aliceOnly: string[];
  const idsSeen = new Map<string, string[]>();
  const audit: AuditEventInput[] = [];

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const columns = header.split(',');
    const pick = (cells: string[], from: number, to: number) => [cells[0], ...cells.slice(1 + from, 1 + to)].join(',');
    const ids = rows.map((r) => r.split(',')[0]);
    // alice lacks every 13th of the bank's customers, bob every 11th; each has 25 customers the bank does not.
    const alice = rows.filter((_, i) => i % 13 !== 0).map((r) => pick(r.split(','), 0, 10));
    const bob = rows.filter((_, i) => i % 11 !== 0).map((r) => pick(r.split(','), 10, 20));
    for (let k = 0; k < 25; k++) {
      alice.push([`alice-only-${k}`, ...Array.from({ length: 10 }, () => (k / 7).toFixed(3))].join(','));
      bob.push([`bob-only-${k}`, ...Array.from({ length: 10 }, () => (k / 5).toFixed(3))].join(','));
    }
    fs.writeFileSync(path.join(dir, 'alice.csv'), [pick(columns, 0, 10), ...alice].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'bob.csv'), [pick(columns, 10, 20), ...bob].join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    expected = ids.filter((_, i) => i % 13 !== 0 && i % 11 !== 0).sort();
    // In the bank's and alice's lists but not bob's: alice must not learn these are the bank's.
    aliceOnly = ids.filter((_, i) => i % 13 !== 0 && i % 11 === 0);

    const seen = jest.spyOn(EcdhPsiSession.prototype, 'idsAtPositions');
    const run = await runInProcessJob({
      dataRoot: dir,
      hyperparameters: hp,
      audit: (e) => audit.push(e),
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [
        { partyId: 'alice', file: 'alice.csv' },
        { partyId: 'bob', file: 'bob.csv' },
      ],
    });
    seen.mock.results.forEach((r, k) => idsSeen.set(k === 0 ? 'first' : 'second', r.value as string[]));
    seen.mockRestore();
    federation = run.federation;
    if (!isSplitLrResult(run.result)) throw new Error('no model');
    result = run.result;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('aligns on the IDs all three share, and each feature party ends up with exactly those', () => {
    expect(result.intersection).toBe(expected.length);
    expect(expected.length).toBeLessThan(569 - 60);
    expect([...idsSeen.values()]).toHaveLength(2);
    for (const ids of idsSeen.values()) {
      expect(ids).toEqual(expected);
      for (const id of aliceOnly) expect(ids).not.toContain(id);
    }
  });

  it("never hands a feature party its own IDs doubly blinded, so it cannot match the bank's list against its own", () => {
    const replies = federation.wire.filter((m) => m.kind === 'peer.psi.blinded.reply' && m.from === 'bank');
    expect(replies.length).toBeGreaterThanOrEqual(2);
    // a sealed empty answer: tens of bytes, where a chunk of 590 elements would be 18 KB
    for (const m of replies) expect(m.bytes.length).toBeLessThan(300);
    const toFeatures = federation.wire.filter((m) => m.kind === 'peer.psi.blinded.reply' && m.from !== 'bank');
    for (const m of toFeatures) expect(m.bytes.length).toBeGreaterThan(500 * 32);
  });

  it("trains the same model as the plaintext algorithm on the three parties' joined data", async () => {
    const reference = await plaintextReference(
      path.join(dir, 'bank.csv'),
      [path.join(dir, 'alice.csv'), path.join(dir, 'bob.csv')],
      hp,
    );
    const federated = ['bank', 'alice', 'bob'].flatMap((p) => federation.models.get(p)!.weights);
    expect(federated).toHaveLength(11 + 10 + 10);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    expect(Math.abs(result.train.auc - reference.trainAuc)).toBeLessThan(1e-3);
    expect(result.train.auc).toBeGreaterThan(result.labelOnly.train.auc);
  });

  it("audits every pair's exchange and the positions the bank sent each feature party", () => {
    expect(Object.keys(result.datasets).sort()).toEqual(['alice', 'bank', 'bob']);
    const positions = federation.wire.filter((m) => m.kind === 'peer.psi.positions');
    expect(positions.map((m) => m.to).sort()).toEqual(['alice', 'bob']);
    const audited = (step: string) => audit.filter((e) => e.step === step).map((e) => `${e.sender}->${e.receiver}`);
    expect(audited('peer.psi.positions').sort()).toEqual(['bank->alice', 'bank->bob']);
    for (const pair of ['bank->alice', 'alice->bank', 'bank->bob', 'bob->bank'])
      expect(audited('peer.psi.blinded')).toContain(pair);
    expect(audit.find((e) => e.step === 'psi.result')!.detail).toMatchObject({ intersection: expected.length });
  });
});
