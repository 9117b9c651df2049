/**
 * Alignment inside a real (in-process) split-LR job: ID normalisation rules shared by both
 * parties, PSI progress reported to the coordinator, and non-shared IDs kept off the wire and
 * out of the audit trail.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEventInput } from '@vfl/audit';
import { SeededRandom } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { runTwoPartyCardinality, runTwoPartyJob } from '../src';
import type { JobProgress } from '../src';

const hp = { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 1, batchSize: 64 };
const SHARED = 150;
const BANK_ONLY = 50;
const SHOP_ONLY = 70;

/** Bank writes national numbers with spaces; the shop writes +86 with dashes. */
function writeTables(dir: string): { canaries: string[] } {
  const rnd = new SeededRandom(11);
  const phone = (i: number) => `139${String(10_000_000 + i * 7919).slice(-8)}`;
  const bankRows = ['id,y,x0,x1'];
  const shopRows = ['id,z0,z1'];
  const canaries: string[] = [];
  for (let i = 0; i < SHARED + BANK_ONLY; i++) {
    const p = phone(i);
    const z = rnd.normal();
    bankRows.push(
      `${p.slice(0, 3)} ${p.slice(3, 7)} ${p.slice(7)},${z + rnd.normal() > 0 ? 1 : 0},${rnd.normal().toFixed(4)},${(z / 2 + rnd.normal()).toFixed(4)}`,
    );
    if (i >= SHARED) canaries.push(p);
  }
  for (let i = 0; i < SHARED + SHOP_ONLY; i++) {
    const p = i < SHARED ? phone(i) : phone(100_000 + i);
    shopRows.push(
      `+86-${p.slice(0, 3)}-${p.slice(3, 7)}-${p.slice(7)},${rnd.normal().toFixed(4)},${rnd.normal().toFixed(4)}`,
    );
    if (i >= SHARED) canaries.push(p);
  }
  fs.writeFileSync(path.join(dir, 'bank.csv'), bankRows.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'shop.csv'), shopRows.join('\n') + '\n');
  return { canaries };
}

describe('alignment in a split-LR job', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-align-'));
  const { canaries } = writeTables(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('matches differently formatted phone numbers once both sides apply the same rules, and reports PSI progress', async () => {
    const audit: AuditEventInput[] = [];
    const progress: JobProgress[] = [];
    const { federation, result } = await runTwoPartyJob({
      dataRoot: dir,
      guest: 'bank.csv',
      host: 'shop.csv',
      hyperparameters: hp,
      alignment: { idRules: ['phone:86'] },
      audit: (e) => audit.push(e),
      progress: (p) => progress.push(p),
    });
    expect(result.intersection).toBe(SHARED);

    const final = progress.filter((p) => p.elementsTotal !== undefined).at(-1)!;
    const total = 2 * (SHARED + BANK_ONLY + SHARED + SHOP_ONLY);
    expect(final).toMatchObject({ phase: 'aligning', elementsDone: total, elementsTotal: total });

    // Canaries: the IDs outside the intersection, in every format, appear nowhere on the wire
    // (the bytes of every message, sealed or not) nor in the audit trail.
    const wire = federation.wire.map((m) => Buffer.from(m.bytes).toString('latin1')).join('\n');
    const trail = JSON.stringify(audit);
    for (const c of canaries) {
      for (const form of [c, `+86${c}`, `${c.slice(0, 3)} ${c.slice(3, 7)} ${c.slice(7)}`]) {
        expect(wire.includes(form)).toBe(false);
        expect(trail.includes(form)).toBe(false);
      }
    }
  }, 120_000);

  it('counts shared IDs without revealing them (cardinality only), and needs no label column', async () => {
    const audit: AuditEventInput[] = [];
    const { federation, result } = await runTwoPartyCardinality({
      dataRoot: dir,
      guest: 'bank.csv',
      host: 'shop.csv',
      labelColumn: 'no-such-column',
      alignment: { idRules: ['phone:86'] },
      audit: (e) => audit.push(e),
    });
    expect(result).toEqual({ model: 'psi-cardinality', intersection: SHARED, datasets: expect.any(Object) });
    expect(audit.map((e) => e.step)).not.toContain('he.keys');
    const wire = federation.wire.map((m) => Buffer.from(m.bytes).toString('latin1')).join('\n');
    for (const c of canaries) expect(wire.includes(c)).toBe(false);
  }, 120_000);

  it('finds no shared rows without the rules, and says so', async () => {
    await expect(
      runTwoPartyJob({ dataRoot: dir, guest: 'bank.csv', host: 'shop.csv', hyperparameters: hp }),
    ).rejects.toThrow('no shared IDs: the intersection is empty');
  }, 120_000);

  it('refuses an unknown rule at the party, naming it', async () => {
    await expect(
      runTwoPartyJob({
        dataRoot: dir,
        guest: 'bank.csv',
        host: 'shop.csv',
        hyperparameters: hp,
        alignment: { idRules: ['soundex' as never] },
      }),
    ).rejects.toThrow('unknown ID rule 1 "soundex"');
  }, 120_000);
});
