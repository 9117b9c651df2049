/**
 * Cross-checks the coordinator's trail against the logs each party keeps in its own database, so
 * that no single operator can rewrite what happened: for every job, each party's log must verify
 * (chain and heads signed by the key the coordinator's roster lists for that party), every
 * message the coordinator says a party sent or received must be in that party's log with the
 * same digest, every message in a party's log must be in the coordinator's trail, and the
 * dataset hash and intersection size each party recorded must be the ones the coordinator did.
 *
 * Each party also keeps the coordinator's chain heads it countersigned (`audit.countersign`):
 * every one must still be in the coordinator's trail, so a trail cut below them (its newest
 * signed heads deleted too) is caught.
 *
 * Allowances: a job that failed or was cancelled may leave messages in a party's log that the
 * coordinator never heard of (the party's reply, which lists them, never arrived). Those are
 * reported as `unreported`, not as a break; the reverse (the coordinator claiming a message a
 * party has no record of) always breaks. A party that never acknowledged job.prepare in the
 * coordinator's trail (it refused, or was never reached) is not expected to hold the job: its log
 * may be empty or hold only its refusal (`notReached`).
 */
import { DataSource } from 'typeorm';
import { ChainedAuditEvent, UNATTRIBUTED_JOB_ID } from './audit-chain';
import { AuditStore } from './audit-store';
import { verifyTrail } from './audit-verifier';

export interface PartyLog {
  readonly partyId: string;
  readonly ds: DataSource;
}

export interface PartyCrossCheck {
  readonly valid: boolean;
  /** Jobs whose roster names at least one of the given parties. */
  readonly jobs: number;
  readonly parties: { partyId: string; events: number; checkpoints: number }[];
  /** Party-side records of failed or cancelled jobs that the coordinator's trail does not have. */
  readonly unreported: number;
  /** (job, party) pairs where the party never acknowledged job.prepare: refused it, or was never reached. */
  readonly notReached: number;
  readonly firstMismatch: null | { jobId: string; partyId: string; reason: string };
}

interface RosterEntry {
  partyId: string;
  role: string;
  publicKey: string;
}

export async function crossCheckParties(
  coordinator: DataSource,
  parties: readonly PartyLog[],
  options: { jobIds?: readonly string[] } = {},
): Promise<PartyCrossCheck> {
  const store = new AuditStore(coordinator);
  const stats = new Map(parties.map((p) => [p.partyId, { partyId: p.partyId, events: 0, checkpoints: 0 }]));
  let unreported = 0;
  let notReached = 0;
  let jobs = 0;
  const result = (firstMismatch: PartyCrossCheck['firstMismatch']): PartyCrossCheck => ({
    valid: firstMismatch === null,
    jobs,
    parties: [...stats.values()],
    unreported,
    notReached,
    firstMismatch,
  });

  const jobIds = options.jobIds ?? (await jobsWithRoster(coordinator));
  const rostered = new Map<string, Set<string>>();
  for (const jobId of jobIds) {
    const trail = await store.events(jobId);
    const roster = (trail.find((e) => e.step === 'job.roster')?.detail.roster as RosterEntry[] | undefined) ?? [];
    rostered.set(jobId, new Set(roster.map((r) => r.partyId)));
    const involved = parties.filter((p) => roster.some((r) => r.partyId === p.partyId));
    if (involved.length === 0) continue;
    jobs++;
    const ended = [...trail].reverse().find((e) => e.step === 'job.state')?.detail.state;
    const jobFailed = ended === 'failed' || ended === 'cancelled';
    const acknowledged = new Set(
      trail.filter((e) => e.step === 'job.prepare' && e.receiver === 'coordinator').map((e) => e.sender),
    );
    for (const party of involved) {
      const key = roster.find((r) => r.partyId === party.partyId)!.publicKey;
      const own = await verifyTrail(party.ds, { jobIds: [jobId], trustedKeys: [key] });
      const s = stats.get(party.partyId)!;
      s.events += own.events;
      s.checkpoints += own.checkpoints;
      if (!own.valid)
        return result({
          jobId,
          partyId: party.partyId,
          reason: `${party.partyId}'s own log is broken at seq ${own.firstBroken!.seq}: ${own.firstBroken!.reason}`,
        });
      const log = await new AuditStore(party.ds).events(jobId);
      const reached = acknowledged.has(party.partyId);
      if (!reached) notReached++;
      if (log.length === 0 && reached)
        return result({ jobId, partyId: party.partyId, reason: `${party.partyId}'s log has no record of this job` });
      const cut = countersignedHeadMissing(trail, log, party.partyId);
      if (cut) return result({ jobId, partyId: party.partyId, reason: cut });
      const mismatch = compareMessages(trail, log, party.partyId, jobFailed || !reached);
      if (typeof mismatch === 'string') return result({ jobId, partyId: party.partyId, reason: mismatch });
      unreported += mismatch;
      const factMismatch = compareFacts(trail, log, party.partyId);
      if (factMismatch) return result({ jobId, partyId: party.partyId, reason: factMismatch });
    }
  }
  // A party's log may not hold jobs the coordinator's trail does not put it in.
  for (const party of parties) {
    const own: { job_id: string }[] = await party.ds.query(
      `SELECT DISTINCT job_id FROM audit_events WHERE job_id <> $1 ${options.jobIds ? 'AND job_id = ANY($2::uuid[])' : ''}`,
      options.jobIds ? [UNATTRIBUTED_JOB_ID, options.jobIds] : [UNATTRIBUTED_JOB_ID],
    );
    for (const { job_id } of own) {
      if (!(rostered.get(job_id) ?? (await rosterOf(store, job_id))).has(party.partyId)) {
        return result({
          jobId: job_id,
          partyId: party.partyId,
          reason: `${party.partyId}'s log records a job in which the coordinator's trail does not list ${party.partyId}`,
        });
      }
    }
  }
  return result(null);
}

async function jobsWithRoster(ds: DataSource): Promise<string[]> {
  const rows: { job_id: string }[] = await ds.query(
    `SELECT job_id FROM audit_events WHERE step = 'job.roster' ORDER BY job_id`,
  );
  return rows.map((r) => r.job_id);
}

async function rosterOf(store: AuditStore, jobId: string): Promise<Set<string>> {
  const roster = (await store.events(jobId)).find((e) => e.step === 'job.roster')?.detail.roster as
    RosterEntry[] | undefined;
  return new Set((roster ?? []).map((r) => r.partyId));
}

/** Every coordinator head the party countersigned must still be in the coordinator's trail, unchanged. */
function countersignedHeadMissing(
  trail: readonly ChainedAuditEvent[],
  log: readonly ChainedAuditEvent[],
  partyId: string,
): string | null {
  for (const e of log) {
    if (e.step !== 'audit.countersign') continue;
    const seq = e.detail.seq as number;
    const event = trail[seq];
    if (!event || event.seq !== seq)
      return `${partyId}'s log holds a coordinator chain head it countersigned (seq ${seq}, ${String(e.detail.state)}) that the coordinator's trail no longer has: the trail was cut`;
    if (event.hash !== e.detail.head)
      return `the coordinator's trail at seq ${seq} differs from the head ${partyId} countersigned: history was rewritten`;
  }
  return null;
}

function messageKey(e: ChainedAuditEvent): string {
  return `${e.step} ${e.sender}->${e.receiver} ${e.messageDigest}`;
}

function describe(e: ChainedAuditEvent): string {
  const seq = typeof e.detail.seq === 'number' ? ` (message seq ${e.detail.seq})` : '';
  return `${e.step} ${e.sender} -> ${e.receiver}${seq}, digest ${e.messageDigest!.slice(0, 16)}…`;
}

/** Compares digested messages as multisets; returns a reason, or how many party-only records a failed job left. */
function compareMessages(
  trail: readonly ChainedAuditEvent[],
  log: readonly ChainedAuditEvent[],
  partyId: string,
  jobFailed: boolean,
): string | number {
  const counts = new Map<string, { n: number; example: ChainedAuditEvent }>();
  for (const e of log) {
    if (!e.messageDigest || e.step === 'peer.refused') continue;
    const k = messageKey(e);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, example: e });
  }
  for (const e of trail) {
    if (!e.messageDigest || (e.sender !== partyId && e.receiver !== partyId)) continue;
    const c = counts.get(messageKey(e));
    if (!c || c.n === 0) {
      const verb = e.sender === partyId ? 'sent' : 'received';
      return `the coordinator's trail records ${describe(e)}, which ${partyId}'s log does not record as ${verb}`;
    }
    c.n--;
  }
  let partyOnly = 0;
  for (const { n, example } of counts.values()) {
    if (n === 0) continue;
    if (!jobFailed) return `${partyId}'s log records ${describe(example)}, which the coordinator's trail does not have`;
    partyOnly += n;
  }
  return partyOnly;
}

/** The dataset and the intersection size a party recorded must be what the coordinator recorded for it. */
function compareFacts(
  trail: readonly ChainedAuditEvent[],
  log: readonly ChainedAuditEvent[],
  partyId: string,
): string | null {
  const theirs = trail.find((e) => e.step === 'job.prepare' && e.sender === partyId)?.detail;
  const mine = log.find((e) => e.step === 'job.prepare')?.detail;
  if (theirs && !mine)
    return `the coordinator's trail records ${partyId}'s dataset, but ${partyId}'s log records no job.prepare`;
  if (theirs && mine) {
    for (const field of ['contentSha256', 'rows', 'columns'] as const) {
      if (JSON.stringify(theirs[field]) !== JSON.stringify(mine[field])) {
        return `job.prepare ${field} differs: the coordinator's trail has ${JSON.stringify(theirs[field])}, ${partyId}'s log has ${JSON.stringify(mine[field])}`;
      }
    }
  }
  const counted = trail.find((e) => e.step === 'psi.result')?.detail.intersection as number | null | undefined;
  const own = log.find((e) => e.step === 'psi.result')?.detail.intersection as number | null | undefined;
  if (counted !== undefined && own !== undefined && own !== null && counted !== own) {
    return `the intersection differs: the coordinator's trail has ${counted}, ${partyId}'s log has ${own}`;
  }
  return null;
}
