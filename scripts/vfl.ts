#!/usr/bin/env node
/**
 * `npm run vfl -- <command>`: the operator's and auditor's command line.
 *
 *   audit verify [--job ID] [--trust-key HEX ...] [--database-url URL] [--party ID=URL ...] [--json]
 *       Recomputes the audit hash chains in the coordinator's database (DATABASE_URL), checks the
 *       coordinator's signed chain heads and its ledger (only keys given with --trust-key, and the
 *       keys they handed over to, count when any are given: see GET /health for the coordinator's
 *       key), each job's result against its digest, and names the first broken link. Each
 *       --party names a party's own audit database: its log is verified against the party's
 *       roster key and cross-checked, message by message, against the coordinator's trail.
 *       Exit status 0 when valid, 1 when broken (a job whose trail is gone included), 2 on a usage error.
 *
 *   keys new | keys rotate [--key-dir DIR] [--database-url URL | --pglite-dir DIR]
 *       A fresh key pair; or the kept coordinator key handed over to a new one (scripts/keys.ts).
 *
 *   job submit FILE | job check FILE | job status ID | job watch ID | job cancel ID | job retry ID | job metrics ID | job list
 *       Drive training jobs through the coordinator's REST API (VFL_API_URL, default
 *       http://127.0.0.1:8080, with the key in VFL_API_KEY). `watch` follows the job's event stream
 *       until it ends; `check` asks every party to check its data against the job file and lists
 *       every problem at once (POST /jobs/validate). Exit status 0 on success, 1 when the job failed,
 *       the check found problems or the API refused.
 *
 *   psi count FILE
 *       The feasibility check: runs the job file's parties (and ID rules) as a cardinality-only PSI
 *       job, waits for it, and prints how many IDs they share (nobody learns which).
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { auditVerify } from './audit-verify';
import { UsageError } from './cli-usage';
import { keysNew, keysRotate } from './keys';

const HELP = `usage (after npm ci: npx vfl …):
  vfl audit verify [--job ID] [--trust-key HEX ...] [--database-url URL] [--party ID=URL ...] [--json]
                                 (no --database-url: DATABASE_URL, else the database npm start recorded in .vfl/)
  vfl job submit FILE|check FILE|status ID|watch ID|cancel ID|retry ID|metrics ID|list [--json]
  vfl psi count FILE [--json]    (the job file's parties as a cardinality-only PSI job)
  vfl keys new                   (an ed25519 key pair: VFL_SIGNING_KEY / PARTY_SIGNING_KEY and its public key)
  vfl keys rotate [--key-dir .vfl] [--database-url URL | --pglite-dir DIR]
                                 (hand the kept coordinator key over to a new one, signed by the old)
  vfl --help | vfl job --help
      (VFL_API_URL, default http://127.0.0.1:8080; VFL_API_KEY)`;

const JOB_HELP = `usage: vfl job <command> [--json]   (VFL_API_URL, default http://127.0.0.1:8080; VFL_API_KEY)
  submit FILE    start the job in FILE (JSON, the body of POST /jobs)
  check FILE     every party checks its data against the job in FILE; every problem at once (POST /jobs/validate)
  status ID      the job's state, progress, error and result
  watch ID       follow the job's events until it ends
  metrics ID     validation figures per epoch
  cancel ID      stop a queued or running job
  retry ID       start a failed or cancelled job again
  list           jobs, newest first
A job file's party data may declare featureColumns or excludeColumns, a missing-value strategy
(missing: mean|median|zero|constant|most-frequent) and categorical columns (columns.NAME.encoding:
one-hot|ordinal, or detectCategorical): see README "Data as it comes".`;

/**
 * What `job watch` reads of an event's data (GET /jobs/:id/events, JSON): a state change (`state`, and
 * `reason` when it failed), progress (JobProgress) or an epoch's summary. Every field is optional.
 */
interface WatchEventData {
  readonly state?: string;
  readonly reason?: string;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly batches?: number;
  readonly elementsDone?: number;
  readonly elementsTotal?: number;
  readonly etaSeconds?: number | null;
  readonly validationAuc?: number;
}

interface JobLike {
  id: string;
  state: string;
  error?: string | null;
  failedParty?: string | null;
  progress?: {
    phase?: string;
    epoch?: number;
    epochs?: number;
    batch?: number;
    batches?: number;
    etaSeconds?: number | null;
    elementsDone?: number;
    elementsTotal?: number;
  };
  epochs?: {
    epoch: number;
    validationAuc?: number;
    validationKs?: number;
    validationR2?: number;
    validationAccuracy?: number;
    validationLoss: number;
    seconds: number;
  }[];
  result?: {
    intersection: number;
    train?: { auc: number; ks: number };
    validation?: { auc: number };
    labelOnly?: { train: { auc: number } };
  } | null;
}

class ApiClient {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(
        `request to the coordinator at ${this.base} failed: ${e instanceof Error ? ((e.cause as Error)?.message ?? e.message) : String(e)}`,
        { cause: e },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string | string[] };
        message = [parsed.message ?? text].flat().join('; ');
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`${method} ${path} answered ${res.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  /** Yields Server-Sent Events (type, parsed data) until the stream ends. */
  async *events(path: string): AsyncGenerator<{ type: string; data: unknown }> {
    const res = await fetch(`${this.base}${path}`, {
      headers: { authorization: `Bearer ${this.key}`, accept: 'text/event-stream' },
    });
    if (!res.ok || !res.body) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = res.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffer += decoder.decode(read.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trim());
        }
        if (data.length) yield { type, data: JSON.parse(data.join('\n')) };
      }
    }
  }
}

async function job(command: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const key = process.env.VFL_API_KEY;
  if (!key) throw new UsageError('set VFL_API_KEY to an API key of the coordinator');
  const api = new ApiClient(process.env.VFL_API_URL ?? 'http://127.0.0.1:8080', key);
  const print = (human: string, data: unknown) => {
    if (!values.json) console.log(human);
    else console.log(JSON.stringify(data));
  };
  const id = () => {
    const value = positionals[0];
    if (!value || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
      throw new UsageError(`job ${command} expects a job id (UUID), got "${value ?? ''}"`);
    return value;
  };
  const describeJob = (j: JobLike) => {
    const lines = [`job ${j.id}: ${j.state}`];
    const p = j.progress;
    if (p?.phase && !['succeeded', 'failed', 'cancelled'].includes(j.state)) {
      const psi = p.elementsTotal ? ` PSI ${p.elementsDone}/${p.elementsTotal} elements blinded` : '';
      lines.push(
        `  ${p.phase}${psi}${p.epoch ? ` epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches}` : ''}${p.etaSeconds ? ` ETA ${p.etaSeconds} s` : ''}`,
      );
    }
    if (j.error) lines.push(`  error${j.failedParty ? ` (on ${j.failedParty})` : ''}: ${j.error}`);
    const r = j.result;
    const target = r?.validation as { r2?: number; rmse?: number; accuracy?: number; macroF1?: number } | undefined;
    if (target?.r2 !== undefined)
      lines.push(`  validation R² ${target.r2.toFixed(4)}  RMSE ${target.rmse!.toFixed(3)}  (${r!.intersection} rows)`);
    else if (target?.accuracy !== undefined)
      lines.push(
        `  validation accuracy ${target.accuracy.toFixed(4)}  macro-F1 ${target.macroF1!.toFixed(4)}  (${r!.intersection} rows)`,
      );
    else if (r?.train && r.validation && r.labelOnly)
      lines.push(
        `  AUC ${r.train.auc.toFixed(4)}  KS ${r.train.ks.toFixed(4)}  validation AUC ${r.validation.auc.toFixed(4)}  label party alone ${r.labelOnly.train.auc.toFixed(4)}  (${r.intersection} rows)`,
      );
    else if (r) lines.push(`  ${r.intersection} shared IDs (count only: nobody learned which)`);
    return lines.join('\n');
  };
  switch (command) {
    case 'check': {
      const answer = await api.request<{
        ok: boolean;
        count: number;
        problems: string[];
        parties: Record<string, { rows: number }>;
      }>('POST', '/jobs/validate', readJobFile(positionals[0], 'job check'));
      const rows = Object.entries(answer.parties)
        .map(([party, r]) => `${party} ${r.rows} rows`)
        .join(', ');
      print(
        answer.ok
          ? `no problems (${rows})`
          : [`${answer.count} problem${answer.count === 1 ? '' : 's'}:`, ...answer.problems.map((p) => `  ${p}`)].join(
              '\n',
            ),
        answer,
      );
      return answer.ok ? 0 : 1;
    }
    case 'submit': {
      const created = await api.request<JobLike>('POST', '/jobs', readJobFile(positionals[0], 'job submit'));
      print(`job ${created.id} submitted (${created.state})`, created);
      return 0;
    }
    case 'count': {
      // `vfl psi count FILE`: the job file's parties and ID rules, as a cardinality-only PSI job, waited for.
      const body = readJobFile(positionals[0], 'psi count');
      const created = await api.request<JobLike>('POST', '/jobs', {
        ...body,
        model: 'psi-cardinality',
        hyperparameters: undefined,
      });
      for await (const event of api.events(`/jobs/${created.id}/events`)) {
        if (!values.json && event.type === 'state')
          console.log(`${created.id}: ${(event.data as { state: string }).state}`);
      }
      const final = await api.request<JobLike>('GET', `/jobs/${created.id}`);
      print(describeJob(final), {
        id: final.id,
        state: final.state,
        intersection: final.result?.intersection ?? null,
        error: final.error ?? null,
      });
      return final.state === 'succeeded' ? 0 : 1;
    }
    case 'status': {
      const j = await api.request<JobLike>('GET', `/jobs/${id()}`);
      print(describeJob(j), j);
      return j.state === 'failed' ? 1 : 0;
    }
    case 'metrics': {
      const j = await api.request<JobLike>('GET', `/jobs/${id()}`);
      const rows = (j.epochs ?? []).map(
        (e) =>
          `  epoch ${String(e.epoch).padStart(3)}  validation ${e.validationR2 !== undefined ? `R² ${e.validationR2.toFixed(4)}` : e.validationAccuracy !== undefined ? `accuracy ${e.validationAccuracy.toFixed(4)}  AUC ${e.validationAuc!.toFixed(4)}` : `AUC ${e.validationAuc!.toFixed(4)}  KS ${e.validationKs!.toFixed(4)}`}  loss ${e.validationLoss.toFixed(4)}  ${e.seconds.toFixed(1)} s`,
      );
      print([`job ${j.id}: ${j.state}`, ...rows, ...(j.result ? [describeJob(j).split('\n').pop()!] : [])].join('\n'), {
        id: j.id,
        state: j.state,
        epochs: j.epochs,
        result: j.result,
      });
      return 0;
    }
    case 'cancel': {
      const j = await api.request<JobLike>('POST', `/jobs/${id()}/cancel`);
      print(`job ${j.id}: cancel requested (${j.state})`, j);
      return 0;
    }
    case 'retry': {
      const j = await api.request<JobLike>('POST', `/jobs/${id()}/retry`);
      print(`job ${j.id} submitted as a retry (${j.state})`, j);
      return 0;
    }
    case 'list': {
      const jobs = await api.request<{ id: string; state: string; createdAt: string }[]>('GET', '/jobs');
      print(jobs.map((j) => `${j.id}  ${j.state.padEnd(10)}  ${j.createdAt}`).join('\n') || '(no jobs)', jobs);
      return 0;
    }
    case 'watch': {
      const jobId = id();
      let state = '';
      for await (const event of api.events(`/jobs/${jobId}/events`)) {
        const data = event.data as WatchEventData;
        if (event.type === 'state') state = String(data.state);
        if (values.json) console.log(JSON.stringify(event));
        else if (event.type === 'state') console.log(`${jobId}: ${state}${data.reason ? ` (${data.reason})` : ''}`);
        else if (event.type === 'epoch')
          console.log(`  epoch ${data.epoch}: validation AUC ${(data.validationAuc as number).toFixed(4)}`);
        else if (event.type === 'progress' && process.stdout.isTTY && data.elementsTotal) {
          const done = Number(data.elementsDone) / Number(data.elementsTotal);
          const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
          process.stdout.write(
            `\r  aligning [${bar}] ${data.elementsDone}/${data.elementsTotal} ${data.etaSeconds ?? '?'} s left `,
          );
        } else if (event.type === 'progress' && process.stdout.isTTY && data.batches) {
          const done = Number(data.batch) / Number(data.batches);
          const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
          process.stdout.write(`\r  epoch ${data.epoch}/${data.epochs} [${bar}] ${data.etaSeconds ?? '?'} s left `);
        }
      }
      const final = await api.request<JobLike>('GET', `/jobs/${jobId}`);
      if (!values.json) console.log(describeJob(final));
      return final.state === 'succeeded' ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command "job ${command ?? ''}"`);
  }
}

function readJobFile(file: string | undefined, command: string): Record<string, unknown> {
  if (!file) throw new UsageError(`${command} expects a job file (JSON, the body of POST /jobs)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${file} is not a readable JSON job file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function main(): Promise<number> {
  const [group, command, ...rest] = process.argv.slice(2);
  const help = (s?: string) => s === '--help' || s === '-h' || s === 'help';
  if (help(group) || (group === undefined && process.stdout.isTTY)) return (console.log(HELP), 0);
  if (group === 'job' && (help(command) || command === undefined)) return (console.log(JOB_HELP), 0);
  if (group === 'audit' && command === 'verify') return auditVerify(rest);
  if (group === 'psi' && command === 'count') return job('count', rest);
  if (group === 'job') return job(command, rest);
  if (group === 'keys' && command === 'new') return keysNew();
  if (group === 'keys' && command === 'rotate') return keysRotate(rest);
  throw new UsageError(group ? `unknown command "${[group, command].filter(Boolean).join(' ')}"` : 'no command given');
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof UsageError ? `${e.message}\n${HELP}` : `vfl: ${e instanceof Error ? e.message : e}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
