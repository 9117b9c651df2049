/**
 * GET /jobs over a long history (rows inserted directly): five fields a job, newest first, a page
 * at a time by cursor, with every job exactly once; and the API's security headers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createScratchDatabase } from '@vfl/database';
import { Federation, launchFederation } from '../../scripts/federation-launcher';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STATES = ['succeeded', 'failed', 'cancelled'] as const;

interface Summary {
  id: string;
  state: string;
  model: string;
  createdAt: string;
  updatedAt: string;
}

describe('GET /jobs over a long history', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-job-list-'));
  let db: { url: string; drop(): Promise<void> };
  let federation: Federation;
  let headers: Record<string, string>;
  const inserted: { id: string; state: string; createdAt: Date }[] = [];

  beforeAll(async () => {
    db = await createScratchDatabase(DATABASE_URL, `vfl_e2e_job_list_${process.pid}`);
    federation = await launchFederation({ workDir: work, databaseUrl: db.url, parties: [], absentParties: ['bank'] });
    headers = { authorization: `Bearer ${federation.adminKey}` };
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // 250 jobs, every fifth sharing its neighbour's timestamp (the cursor must break ties by id),
      // each with a sizeable spec and result that the list must not carry.
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < 250; i++) {
        const job = {
          id: randomUUID(),
          state: STATES[i % 3],
          createdAt: new Date(t0 + (i - (i % 5 === 1 ? 1 : 0)) * 1000 + 0.5),
        };
        inserted.push(job);
        await client.query(
          `INSERT INTO jobs (id, state, spec, result, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
          [
            job.id,
            job.state,
            { model: 'split-lr', padding: 'x'.repeat(4000) },
            { curve: Array(500).fill(0.5) },
            job.createdAt,
          ],
        );
      }
    } finally {
      await client.end();
    }
  }, 120_000);

  afterAll(async () => {
    await federation?.stop();
    await db?.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function pages(query: string): Promise<{ pages: Summary[][]; links: string[] }> {
    const out: Summary[][] = [];
    const links: string[] = [];
    let url = `${federation.coordinatorUrl}/jobs?${query}`;
    for (;;) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(200);
      out.push((await res.json()) as Summary[]);
      const next = res.headers.get('x-next-cursor');
      if (!next) return { pages: out, links };
      const link = res.headers.get('link')!;
      links.push(link);
      expect(link).toContain(`cursor=${next}`);
      url = `${federation.coordinatorUrl}${/^<([^>]+)>; rel="next"$/.exec(link)![1]}`;
    }
  }

  const newestFirst = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);

  it('returns five fields a job, 100 a page, newest first, each job once across the pages', async () => {
    const { pages: got } = await pages('');
    expect(got.map((p) => p.length)).toEqual([100, 100, 50]);
    const all = got.flat();
    expect(Object.keys(all[0]).sort()).toEqual(['createdAt', 'id', 'model', 'state', 'updatedAt']);
    expect(all[0].model).toBe('split-lr');
    expect(all[0].createdAt).toBe(new Date(all[0].createdAt).toISOString());
    expect(all.map((j) => j.id)).toEqual([...inserted].sort(newestFirst).map((j) => j.id));
  });

  it('pages by state and by a chosen limit, the next link keeping both', async () => {
    const { pages: got, links } = await pages('state=failed&limit=30');
    const expected = inserted.filter((j) => j.state === 'failed').sort(newestFirst);
    expect(got.flat().map((j) => j.id)).toEqual(expected.map((j) => j.id));
    expect(got[0]).toHaveLength(30);
    expect(links[0]).toMatch(/^<\/jobs\?state=failed&limit=30&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });

  it('answers 304 to a current ETag, and shows a row another process wrote within a second', async () => {
    const url = `${federation.coordinatorUrl}/jobs?limit=5`;
    const first = await fetch(url, { headers });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await fetch(url, { headers: { ...headers, 'if-none-match': `W/${etag}, "other"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // Written behind the coordinator's back (as a second coordinator process would): seen within max age.
    const id = randomUUID();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO jobs (id, state, spec, created_at, updated_at) VALUES ($1, 'failed', $2, now(), now())`,
        [id, { model: 'split-nn' }],
      );
    } finally {
      await client.end();
    }
    await new Promise((r) => setTimeout(r, 1100));
    const later = await fetch(url, { headers: { ...headers, 'if-none-match': etag } });
    expect(later.status).toBe(200);
    expect(later.headers.get('etag')).not.toBe(etag);
    const rows = (await later.json()) as Summary[];
    expect(rows[0]).toMatchObject({ id, model: 'split-nn' });
    inserted.push({ id, state: 'failed', createdAt: new Date(rows[0].createdAt) });
  });

  it.each([
    ['cursor=not-a-cursor!', 400],
    [`cursor=${Buffer.from('12.x').toString('base64url')}`, 400],
    ['limit=1001', 400],
    ['limit=0', 400],
    ['state=sleeping', 400],
  ])('refuses %s', async (query, status) => {
    expect((await fetch(`${federation.coordinatorUrl}/jobs?${query}`, { headers })).status).toBe(status);
  });

  it('sends standard security headers and no X-Powered-By, on public, authenticated and refused requests', async () => {
    for (const [url, status, auth] of [
      ['/health', 200, true],
      ['/jobs', 200, true],
      ['/jobs', 401, false],
      ['/no-such-route', 404, true],
    ] as const) {
      const res = await fetch(`${federation.coordinatorUrl}${url}`, auth ? { headers } : {});
      expect(res.status).toBe(status);
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect({
        url,
        nosniff: res.headers.get('x-content-type-options'),
        frame: res.headers.get('x-frame-options'),
        hsts: res.headers.get('strict-transport-security'),
        referrer: res.headers.get('referrer-policy'),
        csp: res.headers.get('content-security-policy'),
      }).toEqual({
        url,
        nosniff: 'nosniff',
        frame: 'SAMEORIGIN',
        hsts: expect.stringContaining('max-age='),
        referrer: 'no-referrer',
        csp: expect.stringContaining("default-src 'self'"),
      });
    }
  });
});
