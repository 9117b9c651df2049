/**
 * GET /jobs: a page of job summaries, newest first, read by one indexed query that touches only
 * the five columns it returns (never the spec's or the result's JSON beyond the model name; with
 * include=outcome, as the dashboard asks, also the page's results and first audit events), and
 * paged by a cursor, so a page costs the same however long the history is.
 *
 * The cursor is the last row's (created_at in microseconds, id), opaque to clients (base64url):
 * rows are ordered by (created_at, id) descending, and the next page starts strictly after it,
 * so jobs created meanwhile neither repeat nor shift a page, as they would with offsets.
 */
import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import type { JobState } from '@vfl/audit';
import type { EntityManager } from 'typeorm';

export const JOB_STATES: readonly JobState[] = [
  'queued',
  'aligning',
  'training',
  'evaluating',
  'succeeded',
  'failed',
  'cancelled',
];

export class JobListQuery {
  @ApiPropertyOptional({ enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'The X-Next-Cursor header of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be the X-Next-Cursor of a previous page' })
  cursor?: string;

  @ApiPropertyOptional({
    default: 0,
    maximum: 100000,
    description: 'Rows to skip (prefer cursor: offsets cost their length)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100000)
  offset?: number;

  @ApiPropertyOptional({
    enum: ['outcome'],
    description:
      "outcome: each row also has the validation AUC, the run's seconds and who submitted it (reads each row's result and first audit event, so it costs more than the bare list)",
  })
  @IsOptional()
  @IsIn(['outcome'])
  include?: 'outcome';
}

export interface JobSummary {
  readonly id: string;
  readonly state: JobState;
  readonly model: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** With include=outcome: the validation AUC of a model job that succeeded, else null. */
  readonly validationAuc?: number | null;
  /** With include=outcome: the run's duration in seconds, from its result (null until it succeeds). */
  readonly seconds?: number | null;
  /** With include=outcome: the name of the API key that submitted it (its job.created audit event). */
  readonly submittedBy?: string | null;
}

export interface JobPage {
  /** The page as a JSON array of JobSummary, built by PostgreSQL: no row objects, no dates parsed and re-printed. */
  readonly json: string;
  /** Where the next page starts; absent on the last page. */
  readonly nextCursor?: string;
}

export const DEFAULT_JOB_PAGE = 100;

export function encodeCursor(createdMicros: string, id: string): string {
  return Buffer.from(`${createdMicros}.${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdMicros: string; id: string } {
  const m = /^(\d{1,20})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new BadRequestException('cursor must be the X-Next-Cursor of a previous page');
  return { createdMicros: m[1], id: m[2] };
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * One page; served by the (created_at, id) and (state, created_at, id) indexes. PostgreSQL
 * returns the page as one JSON text (and the next cursor), so the cost in this process does not
 * grow with the page: with rows, parsing and re-printing two dates a row was most of a request.
 */
export async function listJobs(db: Pick<EntityManager, 'query'>, q: JobListQuery): Promise<JobPage> {
  const limit = q.limit ?? DEFAULT_JOB_PAGE;
  const where: string[] = [];
  const params: unknown[] = [limit];
  if (q.state) {
    params.push(q.state);
    where.push(`state = $${params.length}`);
  }
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    params.push(c.createdMicros, c.id);
    where.push(
      `(created_at, id) < (timestamptz 'epoch' + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`,
    );
  }
  params.push(q.offset ?? 0);
  // Only the page's rows (n <= limit) read their result and their chain's first event (job.created, seq 0).
  const outcome =
    q.include === 'outcome'
      ? `, 'validationAuc', (result #>> '{validation,auc}')::float8,
              'seconds', (result ->> 'seconds')::float8,
              'submittedBy', (SELECT e.detail #>> '{startedBy,name}' FROM audit_events e WHERE e.job_id = page.id AND e.seq = 0)`
      : '';
  const [row] = await db.query<{ json: string; next: string | null }[]>(
    `WITH page AS (
       SELECT id, state, spec->>'model' AS model, created_at, updated_at${q.include === 'outcome' ? ', result' : ''},
              row_number() OVER (ORDER BY created_at DESC, id DESC) AS n
         FROM (SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY created_at DESC, id DESC LIMIT $1 + 1 OFFSET $${params.length}) newest
     )
     SELECT coalesce(json_agg(json_build_object(
              'id', id, 'state', state, 'model', model,
              'createdAt', to_char(created_at AT TIME ZONE 'UTC', ${ISO}),
              'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', ${ISO})${outcome}) ORDER BY n) FILTER (WHERE n <= $1), '[]')::text AS json,
            CASE WHEN count(*) > $1 THEN
              min((extract(epoch FROM created_at) * 1000000)::bigint::text || '.' || id) FILTER (WHERE n = $1)
            END AS next
       FROM page`,
    params,
  );
  const [micros, id] = row.next?.split('.') ?? [];
  return { json: row.json, ...(micros && id ? { nextCursor: encodeCursor(micros, id) } : {}) };
}
