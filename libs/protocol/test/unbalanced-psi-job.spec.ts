/**
 * A split-LR job aligned by unbalanced PSI, in one process with real crypto: the bank (label
 * party, 569 customers of the breast cancer data) and a small feature party holding a third of
 * them plus customers of its own. The feature party is the small side, chosen by row counts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEventInput } from '@vfl/audit';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import { InProcessFederation, runInProcessJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import { UnbalancedPsiBig, UnbalancedPsiSmall } from '../src/psi/unbalanced-psi';
import { isSplitLrResult, JobRunner, jobStrategies, SplitLrJobResult } from '../src';
import { untyped } from './untyped-command';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const hp: LrHyperparameters = { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 2, batchSize: 64, learningRate: 0.05, seed: 5 };

describe('split LR aligned by unbalanced PSI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-unbalanced-'));
  let federation: InProcessFederation;
  let result: SplitLrJobResult;
  let expected: string[];
  let bankOnly: string[];
  const shopOnly = Array.from({ length: 20 }, (_, k) => `shop-only-${k}`);
  const audit: AuditEventInput[] = [];
  const seen: { small?: string[]; big?: string[] } = {};

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const ids = rows.map((r) => r.split(',')[0]);
    const shop = rows.filter((_, i) => i % 3 === 0);
    shopOnly.forEach((id, k) =>
      shop.push(
        [
          id,
          ...header
            .split(',')
            .slice(1)
            .map(() => (k / 9).toFixed(3)),
        ].join(','),
      ),
    );
    fs.writeFileSync(path.join(dir, 'shop.csv'), [header, ...shop].join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    expected = ids.filter((_, i) => i % 3 === 0).sort();
    bankOnly = ids.filter((_, i) => i % 3 !== 0);

    const small = jest.spyOn(UnbalancedPsiSmall.prototype, 'finish');
    const big = jest.spyOn(UnbalancedPsiBig.prototype, 'idsAtPositions');
    const run = await runInProcessJob({
      dataRoot: dir,
      hyperparameters: hp,
      alignment: { idRules: [], mode: 'unbalanced' },
      audit: (e) => audit.push(e),
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [{ partyId: 'shop', file: 'shop.csv' }],
    });
    seen.small = (small.mock.results[0]?.value as { sharedIds: string[] } | undefined)?.sharedIds;
    seen.big = big.mock.results[0]?.value as string[] | undefined;
    small.mockRestore();
    big.mockRestore();
    federation = run.federation;
    if (!isSplitLrResult(run.result)) throw new Error('no model');
    result = run.result;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('picks the party with fewer rows as the small side, and both end with exactly the shared IDs in one order', () => {
    expect(audit.find((e) => e.step === 'psi.plan')!.detail).toEqual({
      mode: 'unbalanced',
      small: 'shop',
      big: 'bank',
    });
    expect(result.intersection).toBe(expected.length);
    expect(seen.small).toEqual(expected);
    expect(seen.big).toEqual(expected);
    for (const id of bankOnly.slice(0, 50)) expect(seen.big).not.toContain(id);
  });

  it('sends 32-byte elements only for the small list and 12-byte tags for the big one; no balanced PSI message', () => {
    const bytes = (kind: string) =>
      federation.wire.filter((m) => m.kind === kind).reduce((n, m) => n + m.bytes.length, 0);
    const smallRows = expected.length + shopOnly.length;
    expect(bytes('peer.psi.blinded')).toBe(0);
    expect(bytes('peer.psi.query')).toBeGreaterThan(32 * smallRows);
    expect(bytes('peer.psi.query')).toBeLessThan(32 * smallRows + 2000);
    // 569 tags of 12 bytes, sealed and signed: well under the 18 KB of 32-byte elements.
    expect(bytes('peer.psi.tags')).toBeGreaterThan(12 * 569);
    expect(bytes('peer.psi.tags')).toBeLessThan(12 * 569 + 2000);
    expect(federation.wire.filter((m) => m.kind === 'peer.psi.positions').map((m) => `${m.from}->${m.to}`)).toEqual([
      'shop->bank',
    ]);
  });

  it('audits the exchange, and no non-shared ID reaches the audit trail', () => {
    const audited = (step: string) => audit.filter((e) => e.step === step).map((e) => `${e.sender}->${e.receiver}`);
    expect(audited('peer.psi.query')).toContain('shop->bank');
    expect(audited('peer.psi.tags')).toContain('bank->shop');
    expect(audited('peer.psi.positions')).toEqual(['shop->bank']);
    const trail = JSON.stringify(audit);
    for (const id of [...shopOnly, ...bankOnly.slice(0, 100)]) expect(trail).not.toContain(`"${id}"`);
  });

  it('trains the same model as the plaintext algorithm on the joined data', async () => {
    const reference = await plaintextReference(path.join(dir, 'bank.csv'), [path.join(dir, 'shop.csv')], hp);
    const federated = ['bank', 'shop'].flatMap((p) => federation.models.get(p)!.weights);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
  });

  it('runs with the small side named, even when it is the bigger list', async () => {
    const named: AuditEventInput[] = [];
    const run = await runInProcessJob({
      dataRoot: dir,
      hyperparameters: { ...hp, epochs: 1 },
      alignment: { idRules: [], mode: 'unbalanced', smallParty: 'bank' },
      audit: (e) => named.push(e),
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [{ partyId: 'shop', file: 'shop.csv' }],
      record: false,
    });
    expect(named.find((e) => e.step === 'psi.plan')!.detail).toEqual({
      mode: 'unbalanced',
      small: 'bank',
      big: 'shop',
    });
    expect(run.result.intersection).toBe(expected.length);
  }, 300_000);

  it('refuses unbalanced mode with two feature parties, for a cardinality check, and an unknown small party', () => {
    const parties = [
      { partyId: 'bank', role: 'label' as const, data: { path: 'bank.csv', labelColumn: 'y' } },
      { partyId: 'a', role: 'feature' as const, data: { path: 'a.csv' } },
      { partyId: 'b', role: 'feature' as const, data: { path: 'b.csv' } },
    ];
    const job = (over: object) => () =>
      new JobRunner(
        {
          jobId: 'j',
          model: 'split-lr',
          hyperparameters: hp,
          parties: parties.slice(0, 2),
          alignment: { idRules: [], mode: 'unbalanced' },
          ...over,
        },
        new Map(),
        {
          audit: async () => undefined,
          phase: async () => undefined,
          progress: () => undefined,
        },
        { strategies: jobStrategies() },
      );
    expect(job({ parties })).toThrow('unbalanced PSI takes exactly one feature party, got 2');
    expect(job({ model: 'psi-cardinality' })).toThrow('a cardinality-only check runs in balanced mode');
    expect(job({ alignment: { idRules: [], mode: 'unbalanced', smallParty: 'nobody' } })).toThrow(
      'alignment.smallParty "nobody" is not a party of the job',
    );
    expect(job({ alignment: { idRules: [], mode: 'lopsided' } })).toThrow(
      'alignment.mode must be "balanced" or "unbalanced"',
    );
  });
});

describe('party node refusals in unbalanced mode', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-unbalanced-node-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses psi.plan on a balanced job, an exchange before the plan, a peer outside the roster, and star mode', async () => {
    fs.writeFileSync(path.join(dir, 'bank.csv'), 'id,x,y\na,1,0\nb,2,1\nc,3,0\n');
    fs.writeFileSync(path.join(dir, 'shop.csv'), 'id,z\na,1\nc,2\n');
    const { inProcessFederation } = await import('../src/in-process-federation');
    const parties = [
      { partyId: 'bank', role: 'label' as const },
      { partyId: 'shop', role: 'feature' as const },
      { partyId: 'mall', role: 'feature' as const },
    ];
    const federation = await inProcessFederation(parties, dir, { record: false });
    const roster = await Promise.all(
      parties.map(async (p) => ({
        ...p,
        publicKey: String(
          (await federation.channels.get(p.partyId)!.call(untyped('party.health'), {})).reply.publicKey,
        ),
      })),
    );
    const bank = federation.channels.get('bank')!;
    const prepare = (jobId: string, mode: string, r = roster.slice(0, 2)) =>
      bank.call(untyped('job.prepare'), {
        jobId,
        model: 'split-lr',
        role: 'label',
        data: { path: 'bank.csv', labelColumn: 'y' },
        roster: r,
        settings: hp,
        dataSettings: {
          validationFraction: hp.validationFraction,
          seed: hp.seed,
          clipSigma: hp.clipSigma ?? 0,
          batchSize: hp.batchSize,
        },
        alignment: { idRules: [], output: 'intersection', mode },
      });
    await expect(prepare('star', 'unbalanced', roster)).rejects.toThrow(
      'unbalanced PSI takes one feature party (star mode is balanced only)',
    );
    await expect(prepare('odd', 'lopsided')).rejects.toThrow(
      'job.prepare: alignment.mode: Invalid option: expected one of "balanced"|"unbalanced"',
    );
    await prepare('balanced', 'balanced');
    await expect(
      bank.call(untyped('psi.plan'), { jobId: 'balanced', peer: 'shop', side: 'small', peerRows: 2 }),
    ).rejects.toThrow('only for a job in unbalanced PSI mode');
    await prepare('unbalanced', 'unbalanced');
    await expect(bank.call(untyped('psi.exchange'), { jobId: 'unbalanced', peer: 'shop' })).rejects.toThrow(
      'psi.plan has not assigned this party a PSI side',
    );
    await expect(
      bank.call(untyped('psi.plan'), { jobId: 'unbalanced', peer: 'mall', side: 'small', peerRows: 2 }),
    ).rejects.toThrow('peer mall is not another party of job unbalanced');
    await expect(
      bank.call(untyped('psi.plan'), { jobId: 'unbalanced', peer: 'shop', side: 'middle', peerRows: 2 }),
    ).rejects.toThrow('psi.plan: side: Invalid option: expected one of "small"|"big"');
    await bank.call(untyped('psi.plan'), { jobId: 'unbalanced', peer: 'shop', side: 'big', peerRows: 2 });
    await expect(
      bank.call(untyped('psi.plan'), { jobId: 'unbalanced', peer: 'shop', side: 'big', peerRows: 2 }),
    ).rejects.toThrow('PSI side already planned');
    await expect(bank.call(untyped('psi.exchange'), { jobId: 'unbalanced', peer: 'mall' })).rejects.toThrow(
      'the PSI peer is shop, not mall',
    );
    await expect(bank.call(untyped('psi.finish'), { jobId: 'unbalanced' })).rejects.toThrow(
      /expected message psi-positions has not arrived/,
    );
  });
});
