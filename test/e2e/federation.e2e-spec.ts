/**
 * End to end: the real coordinator and party processes (compiled apps in dist/, started by the
 * same launcher as the demo) over TCP, auditing into the PostgreSQL server at 127.0.0.1:5432.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { createScratchDatabase } from '@vfl/database';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import type { JobView } from '../../apps/coordinator/src/jobs/jobs.service';
import {
  isSplitLrResult,
  PARTY_COMMAND_PATTERN,
  signCommand,
  SplitLrJobResult,
  verifyModelManifest,
} from '@vfl/protocol';
import { ClientTCP } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { SigningIdentity } from '@vfl/crypto';
import { MsgpackSocket } from '@vfl/transport';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = () => undefined;
const TERMINAL_STATES: readonly string[] = ['succeeded', 'failed', 'cancelled'];

describe('coordinator + bank + ecommerce over TCP (real processes, PostgreSQL server)', () => {
  let work: string;
  let bankDir: string;
  let shopDir: string;
  let federation: Federation;
  let bankIds: string[];
  // Each party keeps its own audit log in a database of its own on the same server.
  const partyDbs: Record<string, { url: string; drop(): Promise<void> }> = {};

  const job = (
    bank: Record<string, unknown> = {},
    shop: Record<string, unknown> = {},
    hyperparameters: Record<string, unknown> = { epochs: 3, batchSize: 512 },
  ) => ({
    model: 'split-lr',
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN, ...bank } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv', ...shop } },
    ],
    hyperparameters,
  });
  const auth = (key = federation.adminKey) => ({ authorization: `Bearer ${key}` });
  const get = (path: string, key?: string) => fetch(`${federation.coordinatorUrl}${path}`, { headers: auth(key) });
  const post = (body: unknown, path = '/jobs', key?: string) =>
    fetch(`${federation.coordinatorUrl}${path}`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-e2e-'));
    bankDir = path.join(work, 'bank');
    shopDir = path.join(work, 'ecommerce');
    const data = await writeSyntheticVfl(path.join(work, 'gen'), {
      seed: 11,
      bankRows: 3000,
      ecommerceRows: 2500,
      overlap: 0.7,
    });
    fs.mkdirSync(bankDir);
    fs.mkdirSync(shopDir);
    fs.copyFileSync(data.bankPath, path.join(bankDir, 'bank.csv'));
    fs.copyFileSync(data.ecommercePath, path.join(shopDir, 'ecommerce.csv'));
    const bankCsv = fs.readFileSync(data.bankPath, 'utf8').trimEnd().split('\n');
    bankIds = bankCsv.slice(1).map((l) => l.split(',')[0]);
    // Broken inputs, each in the party's own data root.
    const header = bankCsv[0];
    fs.writeFileSync(
      path.join(bankDir, 'no-label.csv'),
      bankCsv
        .map((l) =>
          l
            .split(',')
            .filter((_, i) => i !== 1)
            .join(','),
        )
        .join('\n'),
    );
    fs.writeFileSync(path.join(bankDir, 'duplicate-ids.csv'), [header, ...bankCsv.slice(1, 50), bankCsv[3]].join('\n'));
    fs.writeFileSync(
      path.join(bankDir, 'nan.csv'),
      [header, ...bankCsv.slice(1, 20), bankCsv[20].replace(/,[^,]*$/, ',NaN')].join('\n'),
    );
    const shopCsv = fs.readFileSync(data.ecommercePath, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(
      path.join(shopDir, 'disjoint.csv'),
      [
        shopCsv[0],
        ...shopCsv.slice(1, 100).map((l, i) => l.replace(/^[^,]*/, `10000000${String(i).padStart(3, '0')}`)),
      ].join('\n'),
    );
    for (const id of ['bank', 'ecommerce'])
      partyDbs[id] = await createScratchDatabase(DATABASE_URL, `vfl_e2e_${id}_${process.pid}`);
    federation = await launchFederation({
      workDir: work,
      databaseUrl: DATABASE_URL,
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: bankDir, databaseUrl: partyDbs.bank.url },
        { partyId: 'ecommerce', role: 'feature', dataRoot: shopDir, databaseUrl: partyDbs.ecommerce.url },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await federation?.stop();
    for (const db of Object.values(partyDbs)) await db.drop();
  });

  let trained: JobView;

  it('aligns by PSI, trains split LR under CKKS, evaluates, and audits every step', async () => {
    const outcome = await runJob(federation.coordinatorUrl, federation.adminKey, job(), quiet);
    trained = outcome.job;
    expect(trained.error).toBeNull();
    expect(trained.state).toBe('succeeded');
    const r = trained.result!;
    if (!isSplitLrResult(r)) throw new Error('a split-lr job returned no model');
    expect(r.intersection).toBe(Math.round(3000 * 0.7));
    expect(r.epochs).toHaveLength(3);
    expect(trained.epochs).toHaveLength(3);
    expect(r.train.auc).toBeGreaterThan(0.7);
    expect(r.train.auc).toBeGreaterThan(r.labelOnly.train.auc);
    expect(r.backend).toMatch(/tfjs/);
    expect(outcome.audit.valid).toBe(true);
    expect(outcome.audit.records).toBeGreaterThan(30);
  }, 180_000);

  it('aligns in unbalanced mode over the services: the small side queries, the big side streams tags', async () => {
    const outcome = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      { ...job({}, {}, { epochs: 1, batchSize: 512 }), alignment: { mode: 'unbalanced' } },
      quiet,
    );
    expect(outcome.job.error).toBeNull();
    expect(outcome.job.result).toMatchObject({ intersection: Math.round(3000 * 0.7) });
    const trail = (await (await get(`/jobs/${outcome.job.id}/audit`)).json()) as {
      events: { step: string; sender: string; detail: Record<string, unknown> }[];
    };
    const steps = trail.events.map((e) => e.step);
    expect(steps).toEqual(
      expect.arrayContaining(['psi.plan', 'peer.psi.query', 'peer.psi.tags', 'peer.psi.positions', 'psi.result']),
    );
    expect(steps).not.toContain('peer.psi.blinded');
  }, 180_000);

  it('runs a cardinality-only feasibility check: the count, no model, and no answer returned to a sender', async () => {
    const outcome = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      { ...job(), model: 'psi-cardinality' },
      quiet,
    );
    expect(outcome.job.error).toBeNull();
    expect(outcome.job.result).toMatchObject({ model: 'psi-cardinality', intersection: Math.round(3000 * 0.7) });
    expect(outcome.job.result).not.toHaveProperty('train');
    const trail = (await (await get(`/jobs/${outcome.job.id}/audit`)).json()) as {
      events: { step: string; sender: string; byteSize: number }[];
    };
    const steps = trail.events.map((e) => e.step);
    expect(steps).toEqual(expect.arrayContaining(['peer.psi.blinded', 'peer.psi.answers', 'psi.result']));
    expect(steps).not.toContain('he.keys');
    // Each blinded chunk is answered with an empty list (a sealed empty body), in both directions.
    const replies = trail.events.filter((e) => e.step === 'peer.psi.blinded.reply');
    expect(new Set(replies.map((e) => e.sender))).toEqual(new Set(['bank', 'ecommerce']));
    for (const r of replies) expect(r.byteSize).toBeLessThan(100);
  }, 120_000);

  it('keeps the audit trail in PostgreSQL: one row per event, digests and sizes, no IDs anywhere', async () => {
    const trail = (await (await get(`/jobs/${trained.id}/audit`)).json()) as {
      events: {
        step: string;
        sender: string;
        receiver: string | null;
        messageDigest: string | null;
        byteSize: number;
      }[];
      verification: { valid: boolean; events: number; checkpoints: number; signers: string[] };
    };
    expect(trail.verification.valid).toBe(true);
    // job.created and every state change (aligning, training, evaluating, succeeded) are signed.
    const health = (await (await fetch(`${federation.coordinatorUrl}/health`)).json()) as { auditSigningKey: string }; // public
    expect(trail.verification.checkpoints).toBe(5);
    expect(trail.verification.signers).toEqual([health.auditSigningKey]);
    const steps = new Set(trail.events.map((e) => e.step));
    for (const s of [
      'job.created',
      'job.state',
      'job.prepare',
      'peer.psi.blinded',
      'peer.psi.blinded.reply',
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
    const forward = trail.events.find((e) => e.step === 'peer.lr.forward')!;
    expect(forward).toMatchObject({ sender: 'ecommerce', receiver: 'bank' });
    expect(forward.messageDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(forward.byteSize).toBeGreaterThan(100_000);

    const db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const rows = await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE job_id = $1`, [trained.id]);
      expect(rows.rows[0].n).toBe(trail.verification.events);
      const dump = await db.query(
        `SELECT string_agg(t::text, E'\\n') AS text FROM (SELECT a::text AS t FROM audit_events a WHERE job_id = $1 UNION ALL SELECT j::text FROM jobs j WHERE id = $1) s`,
        [trained.id],
      );
      const text: string = dump.rows[0].text;
      const logs = fs
        .readdirSync(federation.logDir)
        .map((f) => fs.readFileSync(path.join(federation.logDir, f), 'utf8'))
        .join('\n');
      for (const id of bankIds.slice(0, 300)) {
        expect(text.includes(id)).toBe(false);
        expect(logs.includes(id)).toBe(false);
      }
    } finally {
      await db.end();
    }
  });

  it("cross-checks the coordinator's trail against each party's own log (vfl audit verify --party)", async () => {
    const cli = path.resolve(__dirname, '../../dist/scripts/vfl.js');
    const run = spawnSync(
      process.execPath,
      [
        cli,
        'audit',
        'verify',
        '--job',
        trained.id,
        '--party',
        `bank=${partyDbs.bank.url}`,
        '--party',
        `ecommerce=${partyDbs.ecommerce.url}`,
        '--json',
      ],
      { env: { ...process.env, DATABASE_URL }, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      valid: boolean;
      firstBroken: unknown;
      parties: { jobs: number; logs: { partyId: string; events: number; checkpoints: number }[] };
    };
    expect(out).toMatchObject({ valid: true, firstBroken: null, parties: { jobs: 1 } });
    for (const log of out.parties.logs) {
      expect(log.events).toBeGreaterThan(20);
      expect(log.checkpoints).toBeGreaterThanOrEqual(1);
    }
    // Each party countersigned the coordinator's chain head at the job's state changes, its end included.
    for (const db of Object.values(partyDbs)) {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        const states = await c.query<{ state: string }>(
          `SELECT detail->>'state' AS state FROM audit_events WHERE job_id = $1 AND step = 'audit.countersign' ORDER BY seq`,
          [trained.id],
        );
        expect(states.rows.map((r) => r.state)).toEqual(expect.arrayContaining(['training', 'succeeded']));
      } finally {
        await c.end();
      }
    }
    // The parties' own logs hold no IDs either.
    for (const db of Object.values(partyDbs)) {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        const dump = await c.query<{ text: string }>(
          `SELECT coalesce(string_agg(a::text, E'\\n'), '') AS text FROM audit_events a`,
        );
        for (const id of bankIds.slice(0, 300)) expect(dump.rows[0].text.includes(id)).toBe(false);
      } finally {
        await c.end();
      }
    }
  });

  it('lets an auditor search, export and report on the trail', async () => {
    const forward = (await (
      await get(`/audit/events?jobId=${trained.id}&party=ecommerce&step=peer.lr.forward&limit=5`)
    ).json()) as { sender: string; step: string }[];
    expect(forward).toHaveLength(5);
    expect(forward.every((e) => e.sender === 'ecommerce' && e.step === 'peer.lr.forward')).toBe(true);
    expect((await get(`/audit/events?from=not-a-date`)).status).toBe(400);
    expect((await get(`/audit/events?limit=100000`)).status).toBe(400);

    const jsonl = await (await get(`/audit/events/export?jobId=${trained.id}`)).text();
    const lines = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string });
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i));
    const csv = await (await get(`/audit/events/export?jobId=${trained.id}&format=csv`)).text();
    expect(csv.split('\n')[0]).toBe(
      'jobId,seq,occurredAt,step,sender,receiver,messageDigest,byteSize,detail,prevHash,hash',
    );
    expect(csv.trim().split('\n')).toHaveLength(lines.length + 1);

    const report = (await (await get(`/jobs/${trained.id}/report`)).json()) as {
      startedBy: { name: string };
      datasets: { party: string; contentSha256: string; columnNames: string[]; rows: number }[];
      intersection: { intersection: number };
      privacy: { encryption: { parameterSet: string } };
      outcome: { state: string; result: { trainAuc: number } };
      audit: { valid: boolean };
    };
    expect(report.startedBy.name).toBe('bootstrap-admin');
    expect(report.datasets.map((d) => d.party).sort()).toEqual(['bank', 'ecommerce']);
    expect(report.datasets.find((d) => d.party === 'bank')).toMatchObject({
      rows: 3000,
      contentSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(report.datasets.find((d) => d.party === 'bank')!.columnNames).toContain('income');
    expect(report.intersection.intersection).toBe(2100);
    expect(report.privacy.encryption.parameterSet).toMatch(/^ckks-n8192/);
    expect(report.outcome).toMatchObject({
      state: 'succeeded',
      result: { trainAuc: (trained.result as SplitLrJobResult).train.auc },
    });
    expect(report.audit.valid).toBe(true);
  });

  it("scores new IDs through POST /jobs/:id/predict with each party's saved model, and signs the model manifest", async () => {
    const view = (await (await get(`/jobs/${trained.id}`)).json()) as JobView;
    const manifest = (view.result as SplitLrJobResult).manifest;
    const { publicKey } = (await (await fetch(`${federation.coordinatorUrl}/health`)).json()) as { publicKey: string };
    expect(verifyModelManifest(manifest, { coordinatorPublicKey: publicKey })).toEqual({ valid: true, problems: [] });
    expect(manifest.parts.map((p) => p.partyId)).toEqual(['bank', 'ecommerce']);

    const shopIds = new Set(
      fs
        .readFileSync(path.join(shopDir, 'ecommerce.csv'), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    const ids = bankIds.filter((id) => shopIds.has(id)).slice(0, 25);
    const res = await post({ ids }, `/jobs/${trained.id}/predict`);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { predictionId: string; scores: { id: string; score: number }[] };
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    for (const s of out.scores) {
      expect(s.score).toBeGreaterThan(0);
      expect(s.score).toBeLessThan(1);
    }
    // Scored under its own audit chain, which verifies, and cross-checks against both parties' logs.
    const trail = (await (await get(`/audit/events?jobId=${out.predictionId}&limit=500`)).json()) as { step: string }[];
    expect(trail.map((e) => e.step)).toEqual(
      expect.arrayContaining([
        'predict.created',
        'job.roster',
        'predict.prepare',
        'peer.predict.logits',
        'predict.scores',
        'predict.done',
      ]),
    );
    const check = spawnSync(
      process.execPath,
      [
        path.resolve(__dirname, '../../dist/scripts/vfl.js'),
        'audit',
        'verify',
        '--job',
        out.predictionId,
        '--party',
        `bank=${partyDbs.bank.url}`,
        '--party',
        `ecommerce=${partyDbs.ecommerce.url}`,
        '--json',
      ],
      {
        env: { ...process.env, DATABASE_URL },
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(check.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, firstBroken: null });

    // The label party refuses IDs it does not hold, by count (422); a job that is not a trained model, 409.
    const missing = await post({ ids: [...ids.slice(0, 2), 'nobody-here'] }, `/jobs/${trained.id}/predict`);
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { message: string }).message).toContain(
      "1 of the 3 requested IDs are not in the label party's data",
    );
    expect((await post({ ids: [] }, `/jobs/${trained.id}/predict`)).status).toBe(400);
    const auditor = (await (await post({ name: 'predict-auditor', role: 'auditor' }, '/api-keys')).json()) as {
      key: string;
    };
    expect((await post({ ids }, `/jobs/${trained.id}/predict`, auditor.key)).status).toBe(403);
  });

  it('serves only the coordinator: a client with no key, another key, or a replay learns nothing, the membership oracle included', async () => {
    const client = new ClientTCP({ host: '127.0.0.1', port: federation.partyPorts.bank, socketClass: MsgpackSocket });
    const refusal = (e: unknown) =>
      typeof e === 'string'
        ? e
        : typeof (e as { message?: unknown })?.message === 'string'
          ? (e as { message: string }).message
          : JSON.stringify(e);
    const send = (pattern: string, body: unknown) =>
      firstValueFrom(client.send(pattern, body)).then(() => 'answered', refusal);
    const mallory = SigningIdentity.generate('mallory');
    const coordinator = SigningIdentity.fromSeedHex('coordinator', federation.coordinatorSigningKey);
    const probe = { jobId: randomUUID(), modelJobId: randomUUID(), roster: [], ids: ['not-a-real-id'] };
    try {
      // The attack the issue describes: a bare predict.prepare, as commands travelled before they were signed.
      expect(await send('predict.prepare', probe)).toMatch(/no matching message handler/i);
      expect(
        await send(PARTY_COMMAND_PATTERN, { command: 'predict.prepare', jobId: probe.jobId, body: probe }),
      ).toMatch(/^not a signed command/);
      for (const command of [
        'predict.prepare',
        'job.prepare',
        'party.health',
        'psi.exchange',
        'lr.update',
        'job.close',
      ]) {
        expect(await send(PARTY_COMMAND_PATTERN, signCommand(mallory, 'bank', command, probe))).toBe(
          `${command} is not signed by the coordinator's key for bank`,
        );
      }
      // A command the coordinator signed is served once; the same bytes again are a replay.
      const real = signCommand(coordinator, 'bank', 'party.health', {});
      expect(await send(PARTY_COMMAND_PATTERN, real)).toBe('answered');
      expect(await send(PARTY_COMMAND_PATTERN, real)).toBe('party.health replayed (nonce already used)');
      expect(await send(PARTY_COMMAND_PATTERN, signCommand(coordinator, 'ecommerce', 'party.health', {}))).toBe(
        "party.health is not signed by the coordinator's key for bank",
      );
    } finally {
      client.close();
    }
  });

  it('answers health and readiness over HTTP on every service', async () => {
    expect((await fetch(`${federation.coordinatorUrl}/health`)).status).toBe(200);
    for (const [partyId, url] of Object.entries(federation.partyUrls)) {
      const health = (await (await fetch(`${url}/health`)).json()) as {
        status: string;
        partyId: string;
        publicKey: string;
      };
      expect(health).toMatchObject({ status: 'ok', partyId });
      expect(health.publicKey).toMatch(/^[0-9a-f]{64}$/);
      expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'ready' });
    }
  });

  it('serves its OpenAPI description at /docs', async () => {
    const spec = (await (await fetch(`${federation.coordinatorUrl}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toContain('/api-keys');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/audit']));
  });

  it.each([
    ['an out-of-range hyperparameter', job({}, {}, { epochs: 0 }), 'hyperparameters.epochs'],
    [
      'an unknown party',
      { ...job(), parties: [job().parties[0], { ...job().parties[1], partyId: 'shop' }] },
      'parties.1.partyId',
    ],
    ['a missing model', { parties: job().parties }, 'model'],
    ['an unknown ID rule', { ...job(), alignment: { idRules: ['trim', 'soundex'] } }, 'alignment.idRules'],
    [
      'two label parties',
      {
        ...job(),
        parties: [job().parties[0], { ...job().parties[1], role: 'label', data: { path: 'x.csv', labelColumn: 'y' } }],
      },
      'exactly one party must have role "label"',
    ],
    ['a clipSigma below 0', job({}, {}, { clipSigma: -1 }), 'hyperparameters.clipSigma'],
    [
      'a cardinality check with two feature parties',
      {
        ...job(),
        model: 'psi-cardinality',
        parties: [...job().parties, { partyId: 'bank', role: 'feature', data: { path: 'x.csv' } }],
      },
      'a psi-cardinality check takes exactly one feature party, got 2',
    ],
    [
      'unbalanced PSI with two feature parties',
      {
        ...job(),
        alignment: { mode: 'unbalanced' },
        parties: [...job().parties, { partyId: 'bank', role: 'feature', data: { path: 'x.csv' } }],
      },
      'unbalanced PSI takes exactly one feature party, got 2',
    ],
    ['an unknown PSI mode', { ...job(), alignment: { mode: 'lopsided' } }, 'alignment.mode'],
    ['an unknown PSI protocol', { ...job(), alignment: { protocol: 'rr22' } }, 'alignment.protocol'],
    [
      'KKRT PSI with two feature parties',
      {
        ...job(),
        alignment: { protocol: 'kkrt' },
        parties: [...job().parties, { partyId: 'bank', role: 'feature', data: { path: 'x.csv' } }],
      },
      'alignment.protocol: KKRT PSI takes exactly one feature party, got 2',
    ],
    [
      'KKRT PSI in unbalanced mode',
      { ...job(), alignment: { protocol: 'kkrt', mode: 'unbalanced' } },
      'alignment.protocol: unbalanced mode runs on ECDH-PSI',
    ],
    [
      'a small party outside the job',
      { ...job(), alignment: { mode: 'unbalanced', smallParty: 'nobody' } },
      'alignment.smallParty',
    ],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { message: string | string[] };
    expect([answer.message].flat().join('\n')).toContain(field);
  });

  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    expect((await get(`/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await get(`/jobs/not-a-uuid`)).status).toBe(400);
  });

  it('authenticates every request and enforces roles (admin, operator, auditor)', async () => {
    expect((await fetch(`${federation.coordinatorUrl}/jobs/${trained.id}`)).status).toBe(401);
    expect((await get(`/jobs/${trained.id}`, `vfl_000000000000_${'A'.repeat(43)}`)).status).toBe(401);
    expect((await get(`/jobs/${trained.id}`, 'not-a-key')).status).toBe(401);
    const issued = (await (await post({ name: 'compliance', role: 'auditor' }, '/api-keys')).json()) as {
      key: string;
      keyId: string;
      role: string;
    };
    expect(issued.role).toBe('auditor');
    expect((await get(`/jobs/${trained.id}`, issued.key)).status).toBe(200);
    expect((await get(`/jobs/${trained.id}/audit`, issued.key)).status).toBe(200);
    const refused = await post(job(), '/jobs', issued.key);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toContain('the auditor role may not do this');
    expect((await post({ name: 'x', role: 'admin' }, '/api-keys', issued.key)).status).toBe(403);
    expect(
      (await fetch(`${federation.coordinatorUrl}/api-keys/${issued.keyId}`, { method: 'DELETE', headers: auth() }))
        .status,
    ).toBe(200);
    expect((await get(`/jobs/${trained.id}`, issued.key)).status).toBe(401);
    expect((await post({ name: 'x', role: 'root' }, '/api-keys')).status).toBe(400);
    // The audit trail says who started the job.
    const trail = (await (await get(`/jobs/${trained.id}/audit`)).json()) as {
      events: { step: string; detail: { startedBy?: { name: string; role: string } } }[];
    };
    expect(trail.events.find((e) => e.step === 'job.created')!.detail.startedBy).toMatchObject({
      name: 'bootstrap-admin',
      role: 'admin',
    });
  });

  it.each([
    ['a CSV without the label column', job({ path: 'no-label.csv' }), 'bank', /column "default"/],
    ['duplicate IDs', job({ path: 'duplicate-ids.csv' }), 'bank', /duplicate id/],
    ['a NaN value', job({ path: 'nan.csv' }), 'bank', /line 21.*not finite|NaN/],
    ['no shared IDs', job({}, { path: 'disjoint.csv' }), 'bank|ecommerce', /no shared IDs/],
    [
      'a path outside the data root',
      job({ path: '../ecommerce/ecommerce.csv' }),
      'bank',
      /outside this party's data root/,
    ],
    ['a file that does not exist', job({ path: 'missing.csv' }), 'bank', /missing\.csv/],
  ])(
    'fails the job with the reason and the party for %s, keeping its audit trail',
    async (_what, body, party, reason) => {
      const outcome = await runJob(federation.coordinatorUrl, federation.adminKey, body, quiet);
      expect(outcome.job.state).toBe('failed');
      expect(outcome.job.failedParty).toMatch(new RegExp(`^(${party})$`));
      expect(outcome.job.error).toMatch(reason);
      expect(outcome.audit.valid).toBe(true);
      expect(outcome.audit.records).toBeGreaterThanOrEqual(3);
      // Both parties' own logs agree with the trail; a party that refused job.prepare records why.
      const check = spawnSync(
        process.execPath,
        [
          path.resolve(__dirname, '../../dist/scripts/vfl.js'),
          'audit',
          'verify',
          '--job',
          outcome.job.id,
          '--party',
          `bank=${partyDbs.bank.url}`,
          '--party',
          `ecommerce=${partyDbs.ecommerce.url}`,
          '--json',
        ],
        { env: { ...process.env, DATABASE_URL }, encoding: 'utf8' },
      );
      expect(JSON.parse(check.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, firstBroken: null });
      expect(check.status).toBe(0);
    },
    60_000,
  );

  it("resumes a job whose feature party went down mid-training from the parties' checkpoints, reaching the uninterrupted model", async () => {
    const body = job({}, {}, { epochs: 8, batchSize: 64 });
    const view = async (id: string) => (await (await get(`/jobs/${id}`)).json()) as JobView;
    const until = async (id: string, done: (v: JobView) => boolean, ms = 120_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await view(id);
        if (done(v)) return v;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${v.state}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const started = (await (await post(body)).json()) as JobView;
    await until(started.id, (v) => (v.checkpointEpoch ?? 0) >= 2 || TERMINAL_STATES.includes(v.state));
    await federation.stopParty('ecommerce');
    const failed = await until(started.id, (v) => TERMINAL_STATES.includes(v.state));
    await federation.startParty('ecommerce');
    expect(failed.state).toBe('failed');
    // The bank's message to the shop failed, and the job names the shop.
    expect(failed.failedParty).toBe('ecommerce');
    const from = failed.checkpointEpoch!;
    expect(from).toBeGreaterThanOrEqual(2);

    const res = await post({}, `/jobs/${started.id}/resume`);
    expect(res.status).toBe(201);
    const resumed = await until(((await res.json()) as JobView).id, (v) => TERMINAL_STATES.includes(v.state));
    expect(resumed.state).toBe('succeeded');
    expect(resumed.resumedFrom).toEqual({ fromJobId: started.id, epoch: from });
    expect(resumed.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 8 - from }, (_, k) => from + 1 + k));
    const whole = await runJob(federation.coordinatorUrl, federation.adminKey, body, quiet);
    const auc = (v: JobView) => (v.result as SplitLrJobResult).train.auc;
    expect(Math.abs(auc(resumed) - auc(whole.job))).toBeLessThan(1e-4);
    // A job that succeeded, or never checkpointed, cannot resume.
    expect((await post({}, `/jobs/${whole.job.id}/resume`)).status).toBe(409);
  }, 240_000);

  it('fails a job whose party is down, naming that party', async () => {
    await federation.stopParty('ecommerce');
    const outcome = await runJob(federation.coordinatorUrl, federation.adminKey, job(), quiet);
    expect(outcome.job.state).toBe('failed');
    expect(outcome.job.failedParty).toBe('ecommerce');
    expect(outcome.job.error).toMatch(/ecommerce failed at party.health: unreachable/);
    expect(outcome.audit.valid).toBe(true);
  }, 60_000);
});
