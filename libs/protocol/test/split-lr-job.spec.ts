/**
 * Split LR end to end in one process with real CKKS, real PSI and real parties, on the Wisconsin
 * breast cancer data from ../shared/data (569 rows; label party 10 features, feature party 20).
 */
import * as path from 'node:path';
import { CkksContext } from '@vfl/crypto';
import {
  batchCount,
  epochBatches,
  trainValidationSplit,
  DEFAULT_LR_HYPERPARAMETERS,
  LrHyperparameters,
  LrOptimizer,
} from '@vfl/ml';
import { loadPartyTable } from '@vfl/data';
import { EcdhPsiSession, PsiResult } from '../src/psi/ecdh-psi';
import { AuditEventInput } from '@vfl/audit';
import { JobRunner, SplitLrJobResult } from '../src';
import { FeaturePartyLr, LabelPartyLr } from '../src/split-lr/split-lr-party';
import { MaskedDecryptionService } from '../src/split-lr/masked-decryption';
import { InProcessFederation, runTwoPartyJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import { WireScanner } from './wire-scanner';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const GUEST = 'breast_hetero_guest.csv';
const HOST = 'breast_hetero_host.csv';
const hp: LrHyperparameters = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 3,
  batchSize: 128,
  learningRate: 0.05,
  validationFraction: 0.2,
  seed: 7,
};

describe(JobRunner.name, () => {
  let federation: InProcessFederation;
  let result: SplitLrJobResult;
  const audit: AuditEventInput[] = [];
  let psiResults: PsiResult[];
  const appliedGradients: Float64Array[] = [];
  const sharedLogits: Float64Array[] = [];
  let firstForward: Uint8Array[];
  let firstResidual: Uint8Array[];
  let lastRelease: Float64Array;

  beforeAll(async () => {
    const finish = jest.spyOn(EcdhPsiSession.prototype, 'finish');
    const apply = jest.spyOn(LrOptimizer.prototype, 'apply');
    const shared = jest.spyOn(FeaturePartyLr.prototype, 'partialLogits');
    const forward = jest.spyOn(FeaturePartyLr.prototype, 'forward');
    const residual = jest.spyOn(LabelPartyLr.prototype, 'residual');
    const released = jest.spyOn(MaskedDecryptionService.prototype, 'decrypt');
    ({ federation, result } = await runTwoPartyJob({
      dataRoot: DATA,
      guest: GUEST,
      host: HOST,
      hyperparameters: hp,
      audit: (e) => audit.push(e),
    }));
    psiResults = await Promise.all(finish.mock.results.map((r) => r.value as Promise<PsiResult>));
    // Baseline training (label party's plaintext model) also calls apply: keep the federated steps only.
    const federatedSteps = hp.epochs * batchCount(result.trainRows, hp.batchSize) * 2;
    appliedGradients.push(...apply.mock.calls.slice(0, federatedSteps).map((c) => Float64Array.from(c[1])));
    sharedLogits.push(...shared.mock.results.map((r) => r.value as Float64Array));
    firstForward = (forward.mock.results[0].value as { chunks: Uint8Array[] }).chunks;
    firstResidual = (residual.mock.results[0].value as { residual: Uint8Array[] }).residual;
    lastRelease = await (released.mock.results.at(-1)!.value as Promise<Float64Array>);
    for (const spy of [finish, apply, shared, forward, residual, released]) spy.mockRestore();
  }, 300_000);

  it('aligns all 569 shared rows and both parties agree on the order', () => {
    expect(result.intersection).toBe(569);
    expect(psiResults).toHaveLength(2);
    expect(psiResults[0].sharedIds).toEqual(psiResults[1].sharedIds);
    expect(psiResults[0].orderDigest).toBe(psiResults[1].orderDigest);
  });

  it('trains weights equal to the plaintext algorithm on the joined data within 1e-3', async () => {
    const { weights: reference } = await plaintextReference(path.join(DATA, GUEST), path.join(DATA, HOST), hp);

    const bank = federation.models.get('bank')!;
    const ecommerce = federation.models.get('ecommerce')!;
    expect(bank.columns.at(-1)).toBe('(intercept)');
    const federated = [...bank.weights, ...ecommerce.weights];
    expect(federated).toHaveLength(reference.length);
    const worst = Math.max(...federated.map((w, j) => Math.abs(w - reference[j])));
    expect(worst).toBeLessThan(1e-3);
  });

  it('reaches the quality of a logistic model on this data and beats the label party alone', () => {
    expect(result.train.auc).toBeGreaterThan(0.98);
    expect(result.validation.auc).toBeGreaterThan(0.95);
    expect(result.labelOnly.train.auc).toBeGreaterThan(0.9);
    expect(result.epochs).toHaveLength(hp.epochs);
  });

  it('reports the risk metrics of the final model: confusion matrix, gain/lift by decile, score stability', () => {
    const { confusion, gainLift, scoreStability } = result.train;
    expect(confusion.tp + confusion.fp + confusion.tn + confusion.fn).toBe(result.trainRows);
    expect(gainLift).toHaveLength(10);
    expect(gainLift.at(-1)!.gain).toBeCloseTo(1, 12);
    expect(gainLift[0].lift).toBeGreaterThan(1.4); // the top decile holds far more positives than average
    expect(scoreStability).toBeNull();
    expect(result.validation.scoreStability).toEqual(expect.any(Number));
    expect(result.validation.scoreStability!).toBeLessThan(0.25);
  });

  it('carries the ROC and KS curves of the final model, at most one point per 20 rows, consistent with AUC and KS', () => {
    for (const split of [result.train, result.validation]) {
      // 569 rows: a point at least every 20 rows, so no point reveals a handful of labels
      expect(split.rocCurve.length).toBeGreaterThan(5);
      expect(split.rocCurve.length).toBeLessThanOrEqual(
        Math.floor((split === result.train ? result.trainRows : result.validationRows) / 20) + 1,
      );
      expect(split.rocCurve[0]).toEqual({ fpr: 0, tpr: 0 });
      expect(split.rocCurve.at(-1)).toEqual({ fpr: 1, tpr: 1 });
      let area = 0;
      for (let k = 1; k < split.rocCurve.length; k++) {
        const [a, b] = [split.rocCurve[k - 1], split.rocCurve[k]];
        area += ((b.fpr - a.fpr) * (a.tpr + b.tpr)) / 2;
      }
      expect(area).toBeCloseTo(split.auc, 1);
      expect(split.ksCurve.length).toBe(split.rocCurve.length);
      const widestGap = Math.max(...split.ksCurve.map((p) => p.bad - p.good));
      expect(widestGap).toBeLessThanOrEqual(split.ks + 1e-12);
      expect(widestGap).toBeGreaterThan(split.ks - 0.05);
    }
  });

  it('lets no label, feature value or unmasked gradient cross a party boundary', async () => {
    const guest = await loadPartyTable(path.join(DATA, GUEST), { labelColumn: 'y' });
    const host = await loadPartyTable(path.join(DATA, HOST));
    expect(federation.wire.length).toBeGreaterThan(50);
    const scan = new WireScanner(federation.wire);
    // Positive control: the coordinator's releases (masked gradients) cross in plaintext, and the
    // scanner finds them; so an empty result below means absent, not unsearched.
    expect(new Set(scan.float64(lastRelease).map((h) => h.message.kind))).toEqual(new Set(['lr.update']));
    // Party-to-party bodies are sealed end to end: not even the partial logits (plaintext to the
    // label party, for evaluation) are visible on the wire.
    expect(sharedLogits.length).toBeGreaterThan(0);
    expect(scan.float64(sharedLogits.at(-1)!)).toEqual([]);
    // Labels: every run of 24 consecutive labels in PSI order, as bytes or comma-separated text.
    const order = psiResults[0].sharedIds;
    const index = new Map(guest.ids.map((id, i) => [id, i]));
    const y = Uint8Array.from(order, (id) => guest.labels![index.get(id)!]);
    for (let start = 0; start + 24 <= y.length; start += 24) {
      const run = y.subarray(start, start + 24);
      expect(scan.bytes(run)).toEqual([]);
      expect(scan.bytes(Buffer.from(run.join(',')))).toEqual([]);
    }
    // Feature values: every raw cell of both tables, as float64 bytes and as text. (Float32's
    // 4 bytes would match random ciphertext bytes by chance; 8 bytes cannot.)
    const cells = [...guest.features, ...host.features].filter((v) => v !== 0 && v !== 1);
    expect(scan.float64(cells)).toEqual([]);
    expect(scan.tokens(cells.map(String))).toEqual([]);
    // Gradients: every unmasked gradient entry the parties applied.
    expect(appliedGradients.length).toBeGreaterThan(0);
    expect(scan.float64(appliedGradients.flatMap((g) => Array.from(g)))).toEqual([]);
  });

  it('stops a feature party from stripping its own forward ciphertext off the residual to read labels', async () => {
    // Attack: Enc(d) - Enc(u_f/4) leaves only the label party's contribution u_l/4 + 1/2 - y. Had
    // it been added as a plaintext, that difference would be (m, 0) and decrypt under ANY key.
    // What the feature party holds: its own first forward ciphertexts and the residual it got back.
    const forward = { epoch: 0, batch: 0, chunks: firstForward };
    const residual = { epoch: 0, batch: 0, chunks: firstResidual };
    const ckks = await CkksContext.create();
    const attacker = ckks.seal.KeyGenerator(ckks.context);
    const secret = attacker.secretKey();
    const decryptor = ckks.seal.Decryptor(ckks.context, secret);
    // In epoch 0, batch 0 every weight is 0, so the label party's contribution is exactly 1/2 - y.
    const guest = await loadPartyTable(path.join(DATA, GUEST), { labelColumn: 'y' });
    const order = [...guest.ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const index = new Map(guest.ids.map((id, i) => [id, i]));
    const rows = epochBatches(
      trainValidationSplit(order.length, hp.validationFraction, hp.seed).train,
      hp.batchSize,
      hp.seed,
      0,
    )[0];
    const expected = Array.from(rows, (r) => 0.5 - guest.labels![index.get(order[r])!]);
    const stride = 32; // breast: max(10 + intercept, 20) columns, rounded up to a power of two
    let recovered = 0;
    // Taylor rounds travel one level below the top, at 2^40.
    const r = ckks.deserialize(residual.chunks[0], { level: ckks.topLevel - 1, scale: 2 ** 40 });
    const f = ckks.deserialize(forward.chunks[0], { level: ckks.topLevel - 1, scale: 2 ** 40 });
    ckks.evaluator.sub(r, f, r);
    const plain = decryptor.decrypt(r)!;
    const slots = ckks.encoder.decode(plain);
    const perChunk = ckks.slots / stride;
    for (let k = 0; k < Math.min(perChunk, rows.length); k++)
      if (Math.abs(slots[k * stride] - expected[k]) < 0.01) recovered++;
    [r, f, plain, decryptor, secret, attacker].forEach((o) => o.delete());
    ckks.dispose();
    expect(recovered).toBeLessThan(3);
  });

  it('audits every message with its digest and size, and nothing of the data', () => {
    const messages = audit.filter((e) => e.messageDigest);
    expect(messages.length).toBeGreaterThan(hp.epochs * 5);
    for (const e of messages) {
      expect(e.messageDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(e.byteSize).toBeGreaterThan(0);
    }
    const steps = new Set(audit.map((e) => e.step));
    for (const s of [
      'job.prepare',
      'peer.psi.blinded',
      'psi.result',
      'he.keys',
      'peer.lr.forward',
      'peer.lr.residual',
      'lr.masked_gradient',
      'lr.update',
      'lr.epoch',
    ]) {
      expect(steps).toContain(s);
    }
    expect(JSON.stringify(audit)).not.toMatch(/"842302"|842517/); // two IDs from the file
  });
});
