/**
 * SecureBoost end to end in one process (real BFV, real PSI, signed commands, sealed peer
 * messages) on breast cancer split over a label party and two feature parties: the federated
 * trees are the plaintext reference's, node for node; and what crosses the wire is checked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BfvEncryptor, BfvKeyHolder } from '@vfl/crypto';
import { loadPartyTable } from '@vfl/data';
import type { AuditEventInput } from '@vfl/audit';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { randomUUID } from 'node:crypto';
import {
  SplitLrPrediction,
  isSecureBoostResult,
  runInProcessJob,
  secureBoostSettings,
  SecureBoostJobResult,
  pooledSecureBoostReference,
} from '../src';
import type { InProcessFederation } from '../src';
import { SecureBoostLabel } from '../src/secureboost/label-party';
import { treeShape } from './tree-shape';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const settings = secureBoostSettings.parse({ trees: 3, maxDepth: 3, seed: 5, colSample: 0.8 });

describe('SecureBoost', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-sb-'));
  let federation: InProcessFederation;
  let result: SecureBoostJobResult;
  let label: SecureBoostLabel;
  const decrypted: BigUint64Array[] = [];
  let firstChunks: BigUint64Array[];
  let firstGradients: { g: Float64Array; h: Float64Array };
  let labelsById: ArrayLike<number>;
  const partyLogs: { partyId: string; event: AuditEventInput }[] = [];

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const pick = (line: string, from: number, to: number) => {
      const cells = line.split(',');
      return [cells[0], ...cells.slice(1 + from, 1 + to)].join(',');
    };
    fs.writeFileSync(path.join(dir, 'a.csv'), [header, ...rows].map((l) => pick(l, 0, 10)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), [header, ...rows].map((l) => pick(l, 10, 20)).join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    const encrypt = jest.spyOn(BfvEncryptor.prototype, 'encrypt');
    const decrypt = jest.spyOn(BfvKeyHolder.prototype, 'decrypt');
    const run = await runInProcessJob({
      dataRoot: dir,
      model: 'secureboost',
      secureboost: settings,
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      // Inline, so the spies see the encryptions (the worker path is checked in libs/crypto's bfv-engine spec).
      ckksThreads: 0,
      partyAudit: (partyId) => ({
        record: async (_jobId, event) => void partyLogs.push({ partyId, event }),
        close: async () => undefined,
      }),
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [
        { partyId: 'a', file: 'a.csv' },
        { partyId: 'b', file: 'b.csv' },
      ],
    });
    label = begin.mock.contexts[0] as SecureBoostLabel;
    firstChunks = encrypt.mock.calls.slice(0, 8).map(([coefficients]) => coefficients);
    encrypt.mockRestore();
    labelsById = label.labels;
    // The first tree's g and h: every row starts at the base score, so g = p0 − y and h = p0(1 − p0).
    const p0 = 1 / (1 + Math.exp(-label.booster.baseScore));
    const q = (v: number) => Math.round(v * 2 ** label.params.fractionBits) / 2 ** label.params.fractionBits;
    firstGradients = { g: Float64Array.of(q(p0), q(p0 - 1)), h: Float64Array.of(q(p0 * (1 - p0))) };
    for (const r of decrypt.mock.results) decrypted.push((r.value as { coefficients: BigUint64Array }).coefficients);
    begin.mockRestore();
    decrypt.mockRestore();
    if (!isSecureBoostResult(run.result)) throw new Error('not a secureboost result');
    federation = run.federation;
    result = run.result;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('grows the plaintext reference trees, node for node, on the joined data', async () => {
    // The pooled data in the federation's row order, binned and quantised as the parties do.
    const tables = await Promise.all(
      ['bank', 'a', 'b'].map((p) =>
        loadPartyTable(path.join(dir, `${p}.csv`), p === 'bank' ? { labelColumn: 'y' } : {}),
      ),
    );
    const reference = await pooledSecureBoostReference(tables, settings);
    const { train, validation } = label.booster;
    expect(reference.split).toEqual({ train, validation });
    expect(label.params.fractionBits).toBeGreaterThanOrEqual(12);
    expect(treeShape(label.booster.trees)).toEqual(treeShape(reference.trees));
    expect(label.booster.predictions(validation)).toEqual(reference.validation);
    // Both feature parties' splits are used, so the encrypted path is exercised.
    const blocksUsed = new Set(label.booster.trees.flatMap((t) => t.filter((n) => n.split).map((n) => n.split!.block)));
    expect(blocksUsed.has(1) || blocksUsed.has(2)).toBe(true);
    expect(result.validation.auc).toBeGreaterThan(0.95);
    expect(result.epochs).toHaveLength(3);
    expect(result.labelOnly.validation.auc).toBeGreaterThan(0.5);
    // Importance: every split counted once, the label party's columns by name, the others' by position.
    const splitNodes = label.booster.trees.flat().filter((n) => n.split);
    expect(result.importance.reduce((s, f) => s + f.splits, 0)).toBe(splitNodes.length);
    expect(result.importance.map((f) => f.gain)).toEqual(
      [...result.importance.map((f) => f.gain)].sort((x, y) => y - x),
    );
    for (const f of result.importance) expect(f.column === null).toBe(f.partyId !== 'bank');
    expect(result.importance.filter((f) => f.partyId === 'bank').every((f) => /^x\d+$/.test(f.column!))).toBe(true);
    // Each feature party keeps its own columns' split counts, by name, in its own log: the same counts.
    for (const partyId of ['a', 'b']) {
      const kept = partyLogs.filter((e) => e.partyId === partyId && e.event.step === 'sb.own_importance');
      expect(kept).toHaveLength(1);
      const columns = kept[0].event.detail!.columns as { column: string; splits: number }[];
      const header = fs
        .readFileSync(path.join(dir, `${partyId}.csv`), 'utf8')
        .split('\n')[0]
        .split(',')
        .slice(1);
      expect(Object.fromEntries(columns.map((c) => [c.column, c.splits]))).toEqual(
        Object.fromEntries(
          result.importance.filter((f) => f.partyId === partyId).map((f) => [header[f.index], f.splits]),
        ),
      );
    }
  });

  it('keeps every label, feature value and gradient off the wire; the coordinator decrypts only masked sums', async () => {
    const scan = new WireScanner(federation.wire);
    // Positive control: the coordinator's released (masked) residues cross in plaintext and are found
    // (coefficient 0 is always a bin sum's, and only those are released).
    const released = Buffer.from(decrypted[0].buffer, decrypted[0].byteOffset, 8);
    expect(new Set(scan.bytes(released).map((m) => m.kind))).toEqual(new Set(['sb.split']));
    // Feature values: every cell of both feature parties, as float64 bytes and as text.
    const tables = await Promise.all(['a', 'b'].map((p) => loadPartyTable(path.join(dir, `${p}.csv`))));
    const cells = tables.flatMap((t) => Array.from(t.features)).filter((v) => v !== 0 && v !== 1);
    expect(scan.float64(cells)).toEqual([]);
    expect(scan.tokens(cells.map(String))).toEqual([]);
    // Labels: every run of 24 consecutive labels in row order, as bytes or text.
    const y = Uint8Array.from(label.booster.train, (r) => labelsById[r]);
    for (let start = 0; start + 24 <= y.length; start += 24) {
      expect(scan.bytes(y.subarray(start, start + 24))).toEqual([]);
      expect(scan.bytes(Buffer.from(y.subarray(start, start + 24).join(',')))).toEqual([]);
    }
    // Gradients: the first tree's g and h as float64, and their packed coefficients as 8-byte integers.
    expect(firstChunks.length).toBeGreaterThan(0);
    expect(scan.float64([...firstGradients.g, ...firstGradients.h])).toEqual([]);
    for (const chunk of firstChunks)
      expect(scan.bytes(Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(32, chunk.byteLength)))).toEqual([]);
    // What the coordinator decrypts is uniform modulo t: unmasked sums (true bin sums, or the
    // products' partial sums elsewhere) would sit within 2^44 of 0; uniform residues do so with
    // probability 2^-13 each.
    const t = label.plainModulus;
    let nearZero = 0;
    let total = 0;
    for (const coefficients of decrypted)
      for (const c of coefficients) {
        total++;
        if (c < 2n ** 44n || t - c < 2n ** 44n) nearZero++;
      }
    expect(total).toBeGreaterThan(10_000);
    expect(nearZero / total).toBeLessThan(0.001);
  });

  it("scores new IDs through the split trees: the saved parts give back the trained model's scores, and a feature party sees no score", async () => {
    const bank = await loadPartyTable(path.join(dir, 'bank.csv'), { labelColumn: 'y' });
    const held = await Promise.all(
      ['a', 'b'].map(async (p) => new Set((await loadPartyTable(path.join(dir, `${p}.csv`))).ids)),
    );
    const shared = bank.ids.filter((id) => held.every((s) => s.has(id))).sort();
    const ids = Array.from(label.booster.validation, (r) => shared[r]);
    const wireBefore = federation.wire.length;
    const prediction = await new SplitLrPrediction(
      {
        predictionId: randomUUID(),
        modelJobId: result.manifest.jobId,
        parties: [
          { partyId: 'bank', role: 'label' },
          { partyId: 'a', role: 'feature' },
          { partyId: 'b', role: 'feature' },
        ],
        manifest: result.manifest,
        ids,
      },
      federation.channels,
      async () => undefined,
    ).run();
    expect(prediction.scores.map((s) => s.id)).toEqual(ids);
    expect(Float64Array.from(prediction.scores, (s) => s.score)).toEqual(
      label.booster.predictions(label.booster.validation),
    );
    // The feature parties' traffic in the prediction: direction answers, no score.
    const scan = new WireScanner(
      federation.wire.slice(wireBefore).filter((m) => m.to !== 'coordinator' || m.from === 'bank'),
    );
    const toFeatures = new WireScanner(federation.wire.slice(wireBefore).filter((m) => m.to === 'a' || m.to === 'b'));
    expect(toFeatures.float64(prediction.scores.map((s) => s.score))).toEqual([]);
    expect(scan.float64(prediction.scores.slice(0, 5).map((s) => s.score)).length).toBeGreaterThan(0);
  });
});
