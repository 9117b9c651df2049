/**
 * The coordinator's commands are signed, and a party's new protocol core (party/party-node.ts)
 * serves only those its pinned coordinator key signed, fresh and once: a client that is not the
 * coordinator, or replays one of its commands, learns nothing (the membership oracle of
 * predict.prepare included), and every refusal is logged, at most 20 a minute in full.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SigningIdentity, InlinePsiEngine } from '@vfl/crypto';
import { DEFAULT_LR_HYPERPARAMETERS, initTensorflow } from '@vfl/ml';
import { UNATTRIBUTED_JOB_ID, type AuditEventInput } from '@vfl/audit';
import { CommandGate, CommandRefusedError, RefusalRateLimiter, signCommand } from '../src/wire/signed-command';
import { PartyNode } from '../src/party/party-node';
import { partyHandlers } from '../src';
import * as job from '../src/job/commands';
import * as predict from '../src/predict/commands';
import type { RosterEntry } from '../src/wire/roster';

const DATA = path.resolve(__dirname, '../../../../shared/data');

describe('signed coordinator commands', () => {
  const coordinator = SigningIdentity.generate('coordinator');
  const mallory = SigningIdentity.generate('mallory');
  const bankKey = SigningIdentity.generate('bank');
  const shopKey = SigningIdentity.generate('ecommerce');
  const roster: RosterEntry[] = [
    { partyId: 'bank', role: 'label', publicKey: bankKey.publicKeyHex },
    { partyId: 'ecommerce', role: 'feature', publicKey: shopKey.publicKeyHex },
  ];

  describe(CommandGate.name, () => {
    let now = 1_000_000;
    const gate = new CommandGate({
      partyId: 'bank',
      coordinatorKey: coordinator.publicKeyHex,
      maxAgeMs: 60_000,
      now: () => now,
    });

    it('opens a command the coordinator signed for this party, once', () => {
      const signed = signCommand(coordinator, 'bank', 'party.health', {}, now);
      expect(gate.open(signed)).toEqual({ command: 'party.health', jobId: '', body: {} });
      expect(() => gate.open(signed)).toThrow('party.health replayed (nonce already used)');
    });

    it('refuses unsigned, foreign-signed, misaddressed, stale and altered commands, naming the check', () => {
      const { signature: _, ...unsigned } = signCommand(coordinator, 'bank', 'party.health', {}, now);
      expect(() => gate.open(unsigned)).toThrow(/not a signed command \(envelope: signature: /);
      expect(() => gate.open(signCommand(mallory, 'bank', 'party.health', {}, now))).toThrow(
        "party.health is not signed by the coordinator's key for bank",
      );
      expect(() => gate.open(signCommand(coordinator, 'ecommerce', 'party.health', {}, now))).toThrow(
        'is not signed by',
      );
      expect(() => gate.open(signCommand(coordinator, 'bank', 'party.health', {}, now - 61_000))).toThrow(
        'party.health is stale',
      );
      expect(() => gate.open(signCommand(coordinator, 'bank', 'party.health', {}, now + 61_000))).toThrow(
        'party.health is stale',
      );
      const a = signCommand(coordinator, 'bank', 'job.close', { jobId: 'a', completed: true }, now);
      const b = signCommand(coordinator, 'bank', 'job.close', { jobId: 'a', completed: false }, now);
      expect(() => gate.open({ ...a, body: b.body })).toThrow('is not signed by');
      expect(() => gate.open({ ...a, command: 'job.prepare' })).toThrow('is not signed by');
    });

    it('forgets nonces once a replay would be stale anyway', () => {
      const signed = signCommand(coordinator, 'bank', 'party.health', {}, now);
      gate.open(signed);
      now += 61_000;
      expect(() => gate.open(signed)).toThrow('stale');
    });

    it('refuses everything when no coordinator key is pinned', () => {
      const open = new CommandGate({ partyId: 'bank' });
      expect(() => open.open(signCommand(coordinator, 'bank', 'party.health', {}))).toThrow(
        'bank has no coordinator key pinned (VFL_COORDINATOR_KEY)',
      );
    });
  });

  describe(RefusalRateLimiter.name, () => {
    it('writes 20 refusals a window in full and counts the rest into the next one written', () => {
      let now = 0;
      const limiter = new RefusalRateLimiter(20, 60_000, () => now);
      const admitted = Array.from({ length: 50 }, () => limiter.admit());
      expect(admitted.filter(Boolean)).toHaveLength(20);
      expect(limiter.pending).toBe(30);
      now = 60_000;
      expect(limiter.admit()).toEqual({ suppressed: 30 });
      expect(limiter.admit()).toEqual({ suppressed: 0 });
    });
  });

  describe('a party behind the gate', () => {
    const log: { jobId: string; event: AuditEventInput }[] = [];
    let bank: PartyNode;

    beforeAll(async () => {
      bank = new PartyNode({
        partyId: 'bank',
        role: 'label',
        identity: bankKey,
        coordinatorKey: coordinator.publicKeyHex,
        handlers: partyHandlers(),
        psiEngine: new InlinePsiEngine(),
        tensorflow: await initTensorflow(),
        dataRoot: DATA,
        peers: { request: async () => null },
        audit: { record: async (jobId, event) => void log.push({ jobId, event }), close: async () => undefined },
      });
    });

    const prepareBody = (jobId: string) => ({
      jobId,
      model: 'split-lr',
      role: 'label' as const,
      data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' },
      roster,
      alignment: { idRules: [], output: 'intersection' as const, mode: 'balanced' as const },
      dataSettings: { validationFraction: 0.2, seed: 42, clipSigma: 3, batchSize: 64 },
      settings: DEFAULT_LR_HYPERPARAMETERS,
    });

    it('serves the coordinator: health, then a job prepared from its own data', async () => {
      await expect(bank.handleCommand(signCommand(coordinator, 'bank', job.health.name, {}))).resolves.toMatchObject({
        reply: { partyId: 'bank', publicKey: bankKey.publicKeyHex },
      });
      const id = randomUUID();
      const out = await bank.handleCommand(signCommand(coordinator, 'bank', job.prepare.name, prepareBody(id)));
      expect(out.reply).toMatchObject({ rows: 569, columnNames: expect.any(Array) });
    });

    it('refuses every command it serves when another key signs it, and a replay of a real one', async () => {
      const names = partyHandlers().commandNames();
      expect(names.length).toBeGreaterThanOrEqual(30);
      for (const name of names) {
        await expect(bank.handleCommand(signCommand(mallory, 'bank', name, { jobId: randomUUID() }))).rejects.toThrow(
          `${name} is not signed by the coordinator's key for bank`,
        );
      }
      const real = signCommand(coordinator, 'bank', job.prepare.name, prepareBody(randomUUID()));
      await bank.handleCommand(real);
      await expect(bank.handleCommand(real)).rejects.toBeInstanceOf(CommandRefusedError);
    });

    it('closes the membership oracle: a forged predict.prepare learns nothing about a customer', async () => {
      const forged = signCommand(mallory, 'bank', predict.prepare.name, {
        jobId: randomUUID(),
        modelJobId: randomUUID(),
        roster,
        ids: ['842302'],
      });
      const refusal = await bank.handleCommand(forged).catch((e: Error) => e.message);
      expect(refusal).toBe("predict.prepare is not signed by the coordinator's key for bank");
      expect(refusal).not.toMatch(/rows|not in the label party's data|holds no model/);
    });

    it('names the command and field of a signed body that does not match its schema, never a value', async () => {
      const bad = {
        ...prepareBody(randomUUID()),
        roster: [{ partyId: 'bank', role: 'owner', publicKey: 'secret-value' }],
      };
      const message = await bank
        .handleCommand(signCommand(coordinator, 'bank', job.prepare.name, bad))
        .catch((e: Error) => e.message);
      expect(message).toMatch(/^job\.prepare: roster\[0\]\.role: .*; roster\[0\]\.publicKey: /);
      expect(message).not.toContain('secret-value');
      // A signed command's refusal goes into the chain of the job it names, so the party's log shows why it stopped.
      expect(log.find((e) => e.jobId === bad.jobId)?.event).toMatchObject({
        step: 'command.refused',
        detail: { command: 'job.prepare', reason: expect.stringMatching(/^job\.prepare: roster\[0\]\.role/) },
      });
    });

    it('logs refusals in its unattributed chain, at most 20 a minute in full', () => {
      const refused = log.filter((e) => e.event.step === 'command.refused' && e.jobId === UNATTRIBUTED_JOB_ID);
      expect(refused).toHaveLength(20);
      expect(refused[0].event.detail).toMatchObject({
        reason: expect.stringContaining('is not signed by'),
        suppressedBefore: 0,
      });
    });
  });
});
