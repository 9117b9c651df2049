/**
 * GET /jobs pages, kept until the jobs table changes: the dashboard and the systems that poll the
 * list ask the same question far more often than any job changes (a training job writes its
 * progress about once an epoch), so a page is read from PostgreSQL once per change, not once per
 * request, and concurrent identical requests share one query.
 *
 * Freshness: every write to `jobs` through TypeORM in this process drops the cache at once
 * (JobListInvalidator, an entity subscriber, so no write path can forget it). A write by another
 * coordinator process on the same database is seen within `maxAgeMs`: a page is never served
 * older than that.
 */
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobEntity } from '@vfl/audit';
import type { DataSource, EntitySubscriberInterface, InsertEvent, RemoveEvent, UpdateEvent } from 'typeorm';
import type { JobPage } from './job-list';

export interface CachedJobPage extends JobPage {
  /** A strong validator of the page's bytes: what If-None-Match is compared with. */
  readonly etag: string;
}

interface Entry {
  readonly generation: number;
  readonly loadedAt: number;
  readonly page: Promise<CachedJobPage>;
}

export class JobListCache {
  private generation = 0;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxAgeMs = 1000,
    private readonly maxEntries = 256,
    private readonly now: () => number = Date.now,
  ) {}

  /** The page for `key`: cached when nothing changed since it was read and it is fresh enough. */
  get(key: string, load: () => Promise<JobPage>): Promise<CachedJobPage> {
    const hit = this.entries.get(key);
    if (hit && hit.generation === this.generation && this.now() - hit.loadedAt <= this.maxAgeMs) return hit.page;
    const generation = this.generation;
    const page = load().then((p) => ({ ...p, etag: etagOf(p.json) }));
    // A failed read is not kept: the next request tries again.
    page.catch(() => {
      if (this.entries.get(key)?.page === page) this.entries.delete(key);
    });
    this.entries.delete(key);
    this.entries.set(key, { generation, loadedAt: this.now(), page });
    // Oldest first in a Map: past the bound, the least recently loaded key goes.
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return page;
  }

  /** The jobs table changed: every cached page is stale. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}

function etagOf(json: string): string {
  return `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
}

/** If-None-Match against the current tag: `*`, or any listed tag equal under weak comparison (RFC 9110 8.8.3.2). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Drops the job-list cache on every insert, update or delete of a job through TypeORM. */
@Injectable()
export class JobListInvalidator implements EntitySubscriberInterface<JobEntity> {
  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly cache: JobListCache,
  ) {
    dataSource.subscribers.push(this);
  }

  listenTo(): typeof JobEntity {
    return JobEntity;
  }

  afterInsert(_: InsertEvent<JobEntity>): void {
    this.cache.invalidate();
  }

  afterUpdate(_: UpdateEvent<JobEntity>): void {
    this.cache.invalidate();
  }

  afterRemove(_: RemoveEvent<JobEntity>): void {
    this.cache.invalidate();
  }
}
