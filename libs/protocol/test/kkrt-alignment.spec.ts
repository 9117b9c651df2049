/**
 * Alignment by KKRT inside a real (in-process) split-LR job: `alignment.protocol` "kkrt" gives the
 * same rows as ECDH, the plan is audited, non-shared IDs stay off the wire and out of the audit
 * trail, "auto" keeps ECDH for small lists, and "kkrt" is refused where it does not fit.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEventInput } from '@vfl/audit';
import { SeededRandom } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { runTwoPartyCardinality, runTwoPartyJob } from '../src';
import { chooseAlignmentProtocol, KKRT_AUTO_MIN_ROWS } from '../src/psi/kkrt-alignment';

const hp = { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 1, batchSize: 64 };
const SHARED = 300;
const BANK_ONLY = 80;
const SHOP_ONLY = 120;

function writeTables(dir: string): { canaries: string[] } {
  const rnd = new SeededRandom(7);
  const id = (i: number) => `customer-${String(4_000_000 + i * 7919)}`;
  const bank = ['id,y,x0,x1'];
  const shop = ['id,z0,z1'];
  const canaries: string[] = [];
  for (let i = 0; i < SHARED + BANK_ONLY; i++) {
    const z = rnd.normal();
    bank.push(`${id(i)},${z + rnd.normal() > 0 ? 1 : 0},${rnd.normal().toFixed(4)},${(z / 2).toFixed(4)}`);
    if (i >= SHARED) canaries.push(id(i));
  }
  for (let i = 0; i < SHARED + SHOP_ONLY; i++) {
    const k = i < SHARED ? i : 100_000 + i;
    shop.push(`${id(k)},${rnd.normal().toFixed(4)},${rnd.normal().toFixed(4)}`);
    if (i >= SHARED) canaries.push(id(k));
  }
  fs.writeFileSync(path.join(dir, 'bank.csv'), bank.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'shop.csv'), shop.join('\n') + '\n');
  return { canaries };
}

describe('alignment by KKRT in a split-LR job', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-kkrt-'));
  const { canaries } = writeTables(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const base = { dataRoot: dir, guest: 'bank.csv', host: 'shop.csv', hyperparameters: hp };

  it('aligns the same rows as ECDH, audits the plan, and keeps non-shared IDs off the wire and the trail', async () => {
    const audit: AuditEventInput[] = [];
    const kkrt = await runTwoPartyJob({
      ...base,
      alignment: { idRules: [], protocol: 'kkrt' },
      audit: (e) => audit.push(e),
    });
    const ecdh = await runTwoPartyJob({ ...base, alignment: { idRules: [], protocol: 'ecdh' } });
    expect(kkrt.result.intersection).toBe(SHARED);
    expect(kkrt.result.intersection).toBe(ecdh.result.intersection);
    // The smaller list (the bank's) receives.
    const plan = audit.find((e) => e.step === 'psi.plan');
    expect(plan?.detail).toEqual({ protocol: 'kkrt', receiver: expect.any(String), sender: expect.any(String) });
    const wire = kkrt.federation.wire.map((m) => Buffer.from(m.bytes).toString('latin1')).join('\n');
    const trail = JSON.stringify(audit);
    for (const c of canaries) {
      expect(wire.includes(c)).toBe(false);
      expect(trail.includes(c)).toBe(false);
    }
  }, 180_000);

  it('"auto" keeps ECDH below 100,000 IDs per list', async () => {
    const audit: AuditEventInput[] = [];
    await runTwoPartyJob({ ...base, alignment: { idRules: [] }, audit: (e) => audit.push(e) });
    expect(audit.some((e) => e.step === 'psi.plan' && (e.detail as { protocol?: string })?.protocol === 'kkrt')).toBe(
      false,
    );
  }, 180_000);

  it('refuses "kkrt" for a cardinality-only check, naming alignment.protocol', async () => {
    await expect(
      runTwoPartyCardinality({ ...base, labelColumn: 'y', alignment: { idRules: [], protocol: 'kkrt' } }),
    ).rejects.toThrow('alignment.protocol "kkrt"');
  }, 60_000);
});

describe(chooseAlignmentProtocol.name, () => {
  // The choice reads only the job's alignment settings, its feature parties and the reported rows.
  const driver = (rows: [number, number], alignment: Record<string, unknown> = {}, features = 1) =>
    ({
      spec: { alignment: { idRules: [], ...alignment } },
      label: { partyId: 'bank' },
      features: Array.from({ length: features }, (_, i) => ({ partyId: `shop${i}` })),
      prepared: new Map([
        ['bank', { rows: rows[0] }],
        ...Array.from({ length: features }, (_, i) => [`shop${i}`, { rows: rows[1] }] as const),
      ]),
    }) as unknown as Parameters<typeof chooseAlignmentProtocol>[0];

  it.each([
    ['auto, both lists at the threshold', [KKRT_AUTO_MIN_ROWS, 2e6], {}, 1, 'intersection', 'kkrt'],
    ['auto, one list below it', [KKRT_AUTO_MIN_ROWS - 1, 2e6], {}, 1, 'intersection', 'ecdh'],
    ['auto, unbalanced mode', [1e6, 1e7], { mode: 'unbalanced' }, 1, 'intersection', 'ecdh'],
    ['auto, two feature parties', [1e6, 1e6], {}, 2, 'intersection', 'ecdh'],
    ['auto, cardinality only', [1e6, 1e6], {}, 1, 'cardinality', 'ecdh'],
    ['kkrt asked for, small lists', [10, 10], { protocol: 'kkrt' }, 1, 'intersection', 'kkrt'],
    ['ecdh asked for, large lists', [1e6, 1e6], { protocol: 'ecdh' }, 1, 'intersection', 'ecdh'],
  ] as const)('%s', (_what, rows, alignment, features, output, expected) => {
    expect(chooseAlignmentProtocol(driver([...rows], alignment, features), output)).toBe(expected);
  });

  it('refuses kkrt for two feature parties, naming alignment.protocol', () => {
    expect(() => chooseAlignmentProtocol(driver([1e6, 1e6], { protocol: 'kkrt' }, 2), 'intersection')).toThrow(
      'alignment.protocol "kkrt": KKRT PSI takes exactly one feature party',
    );
  });
});
