/**
 * A PartyNode's checks on what reaches it: roster keys, signed envelopes, replays, tampering;
 * and the bank's own audit log (a database of its own on the PostgreSQL server) of what it
 * accepted and refused.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SigningIdentity, InlinePsiEngine, peerChannelKey, seal } from '@vfl/crypto';
import { DEFAULT_LR_HYPERPARAMETERS, initTensorflow } from '@vfl/ml';
import { digestHex, packBody } from '../src/wire/codec';
import { envelopeSigningText, PeerEnvelope, sealContext } from '../src/wire/peer-envelope';
import type { RosterEntry } from '../src/wire/roster';
import { signCommand } from '../src/wire/signed-command';
import { PartyNode } from '../src/party/party-node';
import { partyHandlers } from '../src';
import * as lr from '../src/split-lr/commands';
import { UNATTRIBUTED_JOB_ID, SignedAuditLog } from '@vfl/audit';
import { createScratchDatabase, openDatabase } from '@vfl/database';
import type { DataSource } from 'typeorm';

const DATA = path.resolve(__dirname, '../../../../shared/data');

describe(PartyNode.name, () => {
  const bankKey = SigningIdentity.generate('bank');
  const shopKey = SigningIdentity.generate('ecommerce');
  const mallory = SigningIdentity.generate('mallory');
  const coordinator = SigningIdentity.generate('coordinator');
  const prepareBody = (jobId: string, role: 'label' | 'feature', r: RosterEntry[], file: string) => ({
    jobId,
    model: 'split-lr',
    role,
    roster: r,
    data: { path: file, ...(role === 'label' ? { labelColumn: 'y' } : {}) },
    alignment: { idRules: [], output: 'intersection', mode: 'balanced' },
    dataSettings: { validationFraction: 0.2, seed: 42, clipSigma: 3, batchSize: 64 },
    settings: DEFAULT_LR_HYPERPARAMETERS,
  });
  let bank: PartyNode;
  const jobId = randomUUID();
  const roster: RosterEntry[] = [
    { partyId: 'bank', role: 'label', publicKey: bankKey.publicKeyHex },
    { partyId: 'ecommerce', role: 'feature', publicKey: shopKey.publicKeyHex },
  ];

  let scratch: { drop(): Promise<void> };
  let auditDs: DataSource;
  let audit: SignedAuditLog | undefined;

  const node = async (pinned?: Map<string, string>) =>
    new PartyNode({
      audit,
      partyId: 'bank',
      role: 'label',
      identity: bankKey,
      coordinatorKey: coordinator.publicKeyHex,
      handlers: partyHandlers(),
      pinnedKeys: pinned,
      psiEngine: new InlinePsiEngine(),
      tensorflow: await initTensorflow(),
      dataRoot: DATA,
      peers: { request: async () => null },
    });
  const prepare = (n: PartyNode, id: string, r: RosterEntry[]) =>
    n.handleCommand(
      signCommand(coordinator, 'bank', 'job.prepare', prepareBody(id, 'label', r, 'breast_hetero_guest.csv')),
    );

  /** An envelope as the e-commerce party builds it: body sealed under the pair's key, header signed. */
  function envelope(
    signer: SigningIdentity,
    seq: number,
    over: Partial<PeerEnvelope> = {},
    sealer: SigningIdentity = shopKey,
  ): PeerEnvelope {
    const route = { jobId, type: lr.forwardShare.type, from: 'ecommerce', to: 'bank', seq, ...over };
    const key = peerChannelKey(sealer, 'ecommerce', 'bank', bankKey.publicKeyHex, String(route.jobId));
    const body = seal(key, packBody({ epoch: 0, batch: seq, chunks: [] }), sealContext(route));
    const header = { ...route, digest: digestHex(body) };
    return { ...header, body, signature: signer.sign(envelopeSigningText(header)), ...over };
  }

  beforeAll(async () => {
    const db = await createScratchDatabase(
      process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      `vfl_test_party_node_${process.pid}`,
    );
    scratch = db;
    auditDs = await openDatabase(db.url, { schema: 'party' });
    audit = new SignedAuditLog(auditDs, bankKey);
    bank = await node();
    await prepare(bank, jobId, roster);
  });
  afterAll(async () => {
    await auditDs?.destroy();
    await scratch?.drop();
  });

  it('accepts an envelope signed by the roster key of its sender', async () => {
    await expect(bank.handlePeer(envelope(shopKey, 1))).resolves.toBeNull();
  });

  it('refuses an envelope signed by anyone else, naming the claimed sender', async () => {
    await expect(bank.handlePeer(envelope(mallory, 2))).rejects.toThrow(
      'claiming to be from ecommerce is not signed by its key',
    );
  });

  it('refuses a replayed envelope and one whose body was swapped', async () => {
    await expect(bank.handlePeer(envelope(shopKey, 1))).rejects.toThrow('replayed (seq 1 <= 1)');
    const tampered = { ...envelope(shopKey, 3), body: envelope(shopKey, 4).body };
    await expect(bank.handlePeer(tampered)).rejects.toThrow('digest does not match its body');
  });

  it('refuses a correctly signed envelope whose body was not sealed under the pair key', async () => {
    await expect(bank.handlePeer(envelope(shopKey, 10, {}, mallory))).rejects.toThrow('sealed body does not open');
  });

  it('refuses envelopes for unknown jobs and from parties outside the roster', async () => {
    await expect(bank.handlePeer(envelope(shopKey, 4, { jobId: randomUUID() }))).rejects.toThrow(/unknown job/);
    await expect(bank.handlePeer(envelope(mallory, 5, { from: 'mallory' }))).rejects.toThrow('not in job');
  });

  it('refuses a roster that lists another key for it, or contradicts a key pinned in its configuration', async () => {
    const other = await node();
    await expect(
      prepare(other, randomUUID(), [{ ...roster[0], publicKey: mallory.publicKeyHex }, roster[1]]),
    ).rejects.toThrow('lists another public key for bank');
    const pinned = await node(new Map([['ecommerce', shopKey.publicKeyHex]]));
    await expect(
      prepare(pinned, randomUUID(), [roster[0], { ...roster[1], publicKey: mallory.publicKeyHex }]),
    ).rejects.toThrow('roster key for ecommerce differs from the key configured at bank');
  });

  it('takes residuals only from the label party: another feature party is refused', async () => {
    const rival = SigningIdentity.generate('rival');
    const three: RosterEntry[] = [...roster, { partyId: 'rival', role: 'feature', publicKey: rival.publicKeyHex }];
    const shop = new PartyNode({
      partyId: 'ecommerce',
      role: 'feature',
      identity: shopKey,
      coordinatorKey: coordinator.publicKeyHex,
      handlers: partyHandlers(),
      psiEngine: new InlinePsiEngine(),
      tensorflow: await initTensorflow(),
      dataRoot: DATA,
      peers: { request: async () => null },
    });
    const id = randomUUID();
    await shop.handleCommand(
      signCommand(coordinator, 'ecommerce', 'job.prepare', prepareBody(id, 'feature', three, 'breast_hetero_host.csv')),
    );
    const route = { jobId: id, type: lr.residualShare.type, from: 'rival', to: 'ecommerce', seq: 1 };
    const body = seal(
      peerChannelKey(rival, 'rival', 'ecommerce', shopKey.publicKeyHex, id),
      packBody({ epoch: 0, batch: 0, chunks: [] }),
      sealContext(route),
    );
    const header = { ...route, digest: digestHex(body) };
    await expect(
      shop.handlePeer({ ...header, body, signature: rival.sign(envelopeSigningText(header)) }),
    ).rejects.toThrow(
      'peer.lr.residual from rival (feature) refused: a feature party takes it only from a label party',
    );
  });

  it('records every accepted envelope and every refusal in its own log, refusals for unknown jobs apart', async () => {
    const own = await audit!.store.events(jobId);
    expect(own.filter((e) => e.step === lr.forwardShare.type).map((e) => e.detail.seq)).toEqual([1]);
    const refused = own.filter((e) => e.step === 'peer.refused');
    expect(refused.map((e) => e.detail.reason)).toEqual([
      expect.stringContaining('is not signed by its key'),
      expect.stringContaining('replayed (seq 1 <= 1)'),
      expect.stringContaining('digest does not match its body'),
      expect.stringContaining('sealed body does not open'),
      expect.stringContaining('not in job'),
    ]);
    expect(refused[0]).toMatchObject({
      sender: 'ecommerce',
      receiver: 'bank',
      detail: { type: lr.forwardShare.type, seq: 2 },
    });
    const unattributed = await audit!.store.events(UNATTRIBUTED_JOB_ID);
    expect(unattributed.some((e) => e.step === 'peer.refused' && /unknown job/.test(String(e.detail.reason)))).toBe(
      true,
    );
    expect((await audit!.store.verify(jobId)).valid).toBe(true);
  });

  it('presents its public key through party.health', async () => {
    expect((await bank.handleCommand(signCommand(coordinator, 'bank', 'party.health', {}))).reply).toMatchObject({
      partyId: 'bank',
      publicKey: bankKey.publicKeyHex,
    });
  });
});
