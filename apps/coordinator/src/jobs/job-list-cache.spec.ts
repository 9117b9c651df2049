/**
 * The GET /jobs cache: served while nothing changed and fresh enough, one query for concurrent
 * identical requests, and dropped by every TypeORM write to `jobs` (on a real PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { JobEntity } from '@vfl/audit';
import { createScratchDatabase, openDatabase } from '@vfl/database';
import { listJobs } from './job-list';
import { etagMatches, JobListCache, JobListInvalidator } from './job-list-cache';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('JobListCache', () => {
  it('serves a page until it is older than max age, and shares one load between concurrent requests', async () => {
    let now = 0;
    const cache = new JobListCache(1000, 8, () => now);
    let loads = 0;
    const load = async () => ({ json: `[${++loads}]` });
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    now = 1000;
    expect((await cache.get('k', load)).json).toBe('[1]');
    now = 1001;
    expect((await cache.get('k', load)).json).toBe('[2]');
    cache.invalidate();
    expect((await cache.get('k', load)).json).toBe('[3]');
  });

  it('forgets a failed load, and keeps at most its bound of pages', async () => {
    const cache = new JobListCache(1000, 2, () => 0);
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await cache.get('k', async () => ({ json: '[]' }))).json).toBe('[]');
    let loads = 0;
    const load = async () => ({ json: `[${++loads}]` });
    for (const key of ['a', 'b', 'c']) await cache.get(key, load);
    await cache.get('a', load);
    expect(loads).toBe(4);
  });

  it('tags a page by its bytes and compares If-None-Match weakly', async () => {
    const cache = new JobListCache();
    const { etag } = await cache.get('k', async () => ({ json: '[]' }));
    expect(etagMatches(etag, etag)).toBe(true);
    expect(etagMatches(`"x", W/${etag}`, etag)).toBe(true);
    expect(etagMatches('*', etag)).toBe(true);
    expect(etagMatches('"x"', etag)).toBe(false);
    expect(etagMatches(undefined, etag)).toBe(false);
  });

  describe('on PostgreSQL', () => {
    let db: { url: string; drop(): Promise<void> };
    let ds: DataSource;

    beforeAll(async () => {
      db = await createScratchDatabase(DATABASE_URL, `vfl_job_list_cache_${process.pid}`);
      ds = await openDatabase(db.url);
    });

    afterAll(async () => {
      await ds?.destroy();
      await db?.drop();
    });

    it('drops every page when a job is inserted or updated through TypeORM', async () => {
      const cache = new JobListCache(60_000);
      new JobListInvalidator(ds, cache);
      const page = () => cache.get('first', () => listJobs(ds.manager, {}));
      const ids = (json: string) =>
        (JSON.parse(json) as { id: string; state: string }[]).map((j) => `${j.id}:${j.state}`);
      expect(ids((await page()).json)).toEqual([]);
      const id = randomUUID();
      await ds.getRepository(JobEntity).insert({ id, state: 'queued', spec: { model: 'split-lr' }, progress: {} });
      expect(ids((await page()).json)).toEqual([`${id}:queued`]);
      await ds.getRepository(JobEntity).update({ id }, { state: 'training' });
      expect(ids((await page()).json)).toEqual([`${id}:training`]);
    });
  });
});
