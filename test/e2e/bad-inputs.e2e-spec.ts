/**
 * The bad-input corpus (test/bad-inputs) against real services, started as the other e2e tests
 * start them: API bodies, data files, prediction requests, signed party commands and peer
 * messages. None may answer 500, none may echo a cell or an ID (every one holds SECRET, which
 * must appear in no answer and no log line), and every service answers /health afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ClientTCP } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { z } from 'zod';
import { SigningIdentity } from '@vfl/crypto';
import { PARTY_COMMAND_PATTERN, PARTY_PEER_PATTERN, signCommand } from '@vfl/protocol';
import { MsgpackSocket } from '@vfl/transport';
import { PartyJob } from '../../libs/protocol/src/party/party-job';
import { PeerLink } from '../../libs/protocol/src/party/peer-link';
import type { PeerEnvelope } from '../../libs/protocol/src/wire/peer-envelope';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { API_CASES, HttpCase } from '../bad-inputs/api-bodies';
import {
  bankFile,
  bytes,
  cell,
  DATA_FILE_CASES,
  DataFileCase,
  DOT_DOT_NAME,
  ELSEWHERE_CSV,
  line,
  shopFile,
} from '../bad-inputs/data-files';
import { PARTY_CASES, PartyContext, prepareBody } from '../bad-inputs/party-messages';
import { PREDICT_CASES, PredictCase } from '../bad-inputs/predictions';
import { SECRET } from '../bad-inputs/secret';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TRAIN = { bank: 'train-bank.csv', ecommerce: 'train-shop.csv' };

describe('bad inputs: no 500, no echo, every service still up', () => {
  let work: string;
  const roots = { bank: '', ecommerce: '', elsewhere: '' };
  let federation: Federation;
  let trainedJob: string;
  let failedJob: string;

  const request = async (
    method: string,
    p: string,
    o: { body?: unknown; raw?: string; contentType?: string; auth?: HttpCase['auth'] } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (o.auth !== 'none')
      headers.authorization = `Bearer ${o.auth === 'bogus' ? `vfl_000000000000_${'A'.repeat(43)}` : federation.adminKey}`;
    const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (payload !== undefined && o.contentType !== '') headers['content-type'] = o.contentType ?? 'application/json';
    // fetch labels a string body text/plain: a body without a content type goes as bytes.
    const body = payload !== undefined && o.contentType === '' ? Buffer.from(payload) : payload;
    const res = await fetch(`${federation.coordinatorUrl}${p}`, { method, headers, body });
    return { status: res.status, text: await res.text() };
  };
  const job = async (id: string) =>
    JSON.parse((await request('GET', `/jobs/${id}`)).text) as {
      state: string;
      error: string | null;
      failedParty: string | null;
    };
  const settle = async (id: string, timeoutMs = 60_000) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const j = await job(id);
      if (['succeeded', 'failed', 'cancelled'].includes(j.state)) return j;
    }
    throw new Error(`job ${id} did not end`);
  };
  const submit = async (parties: { bank: string; ecommerce: string }, over: Record<string, unknown> = {}) => {
    const res = await request('POST', '/jobs', {
      body: {
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: parties.bank, labelColumn: 'default' } },
          { partyId: 'ecommerce', role: 'feature', data: { path: parties.ecommerce } },
        ],
        hyperparameters: { epochs: 1, batchSize: 256 },
        ...over,
      },
    });
    expect(res.status).toBe(201);
    return (JSON.parse(res.text) as { id: string }).id;
  };
  const expectClean = (status: number, text: string) => {
    expect(status).not.toBe(500);
    expect(text).not.toContain(SECRET);
  };
  const write = (root: string, name: string, content: string | Buffer) =>
    fs.writeFileSync(path.join(root, name), content);

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bad-inputs-'));
    for (const k of Object.keys(roots) as (keyof typeof roots)[]) {
      roots[k] = path.join(work, 'roots', k);
      fs.mkdirSync(roots[k], { recursive: true });
    }
    write(roots.elsewhere, 'other.csv', ELSEWHERE_CSV);
    write(roots.bank, TRAIN.bank, bankFile(undefined, 600));
    write(roots.ecommerce, TRAIN.ecommerce, shopFile(undefined, 600));
    write(roots.bank, DOT_DOT_NAME, bankFile(undefined, 600));
    write(roots.bank, 'predict-hex.csv', bankFile(cell(7, '0x1F')));
    write(roots.bank, 'predict-utf8.csv', bytes(bankFile().slice(0, 30), [0xff], bankFile().slice(30)));
    write(roots.bank, 'predict-columns.csv', bankFile(line(1, 'id,default,income,height')));
    fs.symlinkSync('/etc/passwd', path.join(roots.bank, 'passwd.csv'));
    for (const c of DATA_FILE_CASES) {
      const root = roots[c.party];
      if (c.content !== undefined) write(root, c.path, c.content);
      if (c.directory) fs.mkdirSync(path.join(root, c.path));
      if (c.symlinkTo && !fs.existsSync(path.join(root, c.path))) {
        const at = c.path.includes('/') ? c.path.split('/')[0] : c.path;
        fs.symlinkSync(path.resolve(root, c.symlinkTo), path.join(root, at));
      }
    }
    federation = await launchFederation({
      workDir: work,
      databaseUrl: DATABASE_URL,
      coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '16', VFL_LOG_FORMAT: 'json' },
      partyEnv: { VFL_LOG_FORMAT: 'json' },
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: roots.bank },
        { partyId: 'ecommerce', role: 'feature', dataRoot: roots.ecommerce },
      ],
    });
    trainedJob = await submit(TRAIN);
  }, 120_000);
  afterAll(async () => {
    await federation?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('holds at least 100 bad inputs', () => {
    expect(
      API_CASES.length + DATA_FILE_CASES.length + PREDICT_CASES.length + PARTY_CASES.length,
    ).toBeGreaterThanOrEqual(100);
  });

  it.each(API_CASES.map((c) => [c.name, c] as const))('API: %s', async (_name, c) => {
    const res = await request(c.method ?? 'POST', c.path, c);
    expectClean(res.status, res.text);
    expect(res.status).toBe(c.status);
    for (const w of c.words) expect(res.text).toContain(JSON.stringify(w).slice(1, -1));
  });

  describe('data files', () => {
    const jobs = new Map<string, Promise<string>>();
    beforeAll(() => {
      for (const c of DATA_FILE_CASES) {
        const files = { ...TRAIN, [c.party]: c.path };
        const nn = {
          architecture: {
            bottom: [{ units: 4, activation: 'relu' }],
            interactive: { units: 4 },
            top: [],
            training: { optimizer: 'adam', learningRate: 0.01, batchSize: 256, epochs: 1, seed: 1 },
          },
        };
        jobs.set(
          c.name,
          submit(files, c.model === 'split-nn' ? { model: 'split-nn', nn, hyperparameters: undefined } : {}),
        );
      }
    });

    it.each(DATA_FILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c: DataFileCase) => {
      const id = await jobs.get(c.name)!;
      const outcome = await settle(id);
      expect(outcome).toMatchObject({ state: 'failed', failedParty: c.party });
      for (const w of c.words) expect(outcome.error).toContain(w);
      const trail = await request('GET', `/jobs/${id}/audit`);
      expectClean(trail.status, trail.text);
      expectClean(200, JSON.stringify(outcome));
    });

    it('takes a file whose name begins with two dots', async () => {
      const id = await submit(
        { bank: DOT_DOT_NAME, ecommerce: TRAIN.ecommerce },
        { model: 'psi-cardinality', hyperparameters: undefined },
      );
      expect(await settle(id)).toMatchObject({ state: 'succeeded' });
    });
  });

  describe('prediction requests', () => {
    beforeAll(async () => {
      expect(await settle(trainedJob)).toMatchObject({ state: 'succeeded' });
      failedJob = await submit({ bank: 'nowhere.csv', ecommerce: TRAIN.ecommerce });
      await settle(failedJob);
    }, 90_000);

    it.each(PREDICT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c: PredictCase) => {
      const target = { trained: trainedJob, failed: failedJob, unknown: randomUUID(), malformed: SECRET }[c.target];
      const res = await request('POST', `/jobs/${target}/predict`, c);
      expectClean(res.status, res.text);
      expect(res.status).toBe(c.status);
      for (const w of c.words) expect(res.text).toContain(JSON.stringify(w).slice(1, -1));
    });
  });

  describe('party commands and peer messages', () => {
    let client: ClientTCP;
    let ctx: PartyContext;
    const refusal = (e: unknown) =>
      typeof (e as { message?: unknown })?.message === 'string'
        ? (e as { message: string }).message
        : JSON.stringify(e);

    beforeAll(async () => {
      client = new ClientTCP({ host: '127.0.0.1', port: federation.partyPorts.bank, socketClass: MsgpackSocket });
      const coordinator = SigningIdentity.fromSeedHex('coordinator', federation.coordinatorSigningKey);
      const mallory = SigningIdentity.generate('mallory');
      const bankKey = ((await (await fetch(`${federation.partyUrls.bank}/health`)).json()) as { publicKey: string })
        .publicKey;
      const roster = [
        { partyId: 'bank', role: 'label' as const, publicKey: bankKey },
        { partyId: 'mallory', role: 'feature' as const, publicKey: mallory.publicKeyHex },
      ];
      const base: PartyContext = { coordinator, mallory, roster, jobId: '', envelope: async () => ({}) };
      const prepared = prepareBody(base);
      await firstValueFrom(
        client.send(PARTY_COMMAND_PATTERN, signCommand(coordinator, 'bank', 'job.prepare', prepared)),
      );
      let captured: PeerEnvelope | undefined;
      const link = new PeerLink(
        'mallory',
        mallory,
        {
          request: (_to, e) => {
            captured = e; // kept, not sent: each case sends it (altered) itself
            return Promise.resolve(null);
          },
        },
        async () => undefined,
      );
      const malloryJob = new PartyJob(
        prepared.jobId,
        'split-lr',
        'feature',
        roster,
        { path: 'x.csv' },
        prepared.dataSettings,
      );
      ctx = {
        ...base,
        jobId: prepared.jobId,
        envelope: async (type, body, over = {}) => {
          await link.send(malloryJob, 'bank', { type, body: z.unknown() }, body, []);
          return { ...captured!, ...over };
        },
      };
    });
    afterAll(() => client?.close());

    it.each(PARTY_CASES.map((c) => [`${c.channel}: ${c.name}`, c] as const))('%s', async (_name, c) => {
      const messages = await c.build(ctx);
      let answer = '';
      for (const m of messages)
        answer = await firstValueFrom(
          client.send(c.channel === 'command' ? PARTY_COMMAND_PATTERN : PARTY_PEER_PATTERN, m),
        ).then(() => 'answered', refusal);
      expect(answer).not.toContain(SECRET);
      for (const w of c.words) expect(answer).toContain(w);
    });
  });

  it('leaves every service up, and no secret and no job spec in any log', async () => {
    expect((await fetch(`${federation.coordinatorUrl}/health`)).status).toBe(200);
    for (const url of Object.values(federation.partyUrls)) expect((await fetch(`${url}/health`)).status).toBe(200);
    for (const file of fs.readdirSync(federation.logDir)) {
      const log = fs.readFileSync(path.join(federation.logDir, file), 'utf8');
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain('INSERT INTO');
      expect(log).not.toContain('"hyperparameters"');
    }
  });
});
