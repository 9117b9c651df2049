/**
 * The data check before a job (and for POST /jobs/validate): each party reads its file as the job
 * would and reports every problem at once; the coordinator gathers every party's answer. Each party
 * reports kinds, column names, counts and line numbers only, never a cell or an ID, so the check
 * tells the coordinator nothing a failing job.prepare would not (what learns what: docs/protocol.md).
 */
import {
  checkPartyFile,
  DataValidationError,
  describeProblem,
  hasPreprocessing,
  loadOptionsOf,
  parseIdRules,
  plannedColumns,
  preprocessingProblems,
  type LoadTableOptions,
  type Objective,
} from '@vfl/data';
import type { DataReference, PartyRole } from '../wire/roster';
import type { PartyChannel } from '../wire/party-channel';
import { onCommand, type CommandHandler, type PartyModelHooks } from '../party/party-model';
import * as job from './commands';
import type { CheckReply, CheckRequest, DataProblem } from './commands';
import { maximumColumns, PartyCallError, type JobSpec } from './job-types';
import { COORDINATOR_ID } from '../wire/roster';

/** How a party reads its file for a job: the same at job.prepare and at job.check. */
export function tableOptions(
  data: DataReference,
  role: PartyRole,
  hooks: PartyModelHooks,
  labelled: boolean,
  batchSize: number,
  /** How the label column is read, and the model named in a label error. */
  label: { objective?: Objective; model: string } = { model: 'this model' },
): LoadTableOptions {
  return {
    ...(hasPreprocessing(data) ? loadOptionsOf(data, hooks.missingValues === true) : {}),
    idColumn: data.idColumn ?? 'id',
    // A feasibility count needs no labels.
    labelColumn: role === 'label' && labelled ? (data.labelColumn ?? 'y') : undefined,
    objective: label.objective ?? 'binary',
    labelReader: `model ${label.model.slice(0, 32)}`,
    // A training batch needs twice the widest party's columns in rows: know it now, not after PSI.
    ...(hooks.miniBatches && labelled ? columnLimit(batchSize, role) : {}),
    ...(hooks.missingValues ? { allowMissing: true } : {}),
  };
}

/** The widest file a training job's batches allow this party (the label party's intercept is a column). */
export function columnLimit(batchSize: number, role: PartyRole): LoadTableOptions {
  const columns = maximumColumns(batchSize);
  return {
    maxFeatureColumns: Math.max(1, columns - (role === 'label' ? 1 : 0)),
    maxFeatureColumnsReason: `batches of ${batchSize} rows allow a party ${columns} columns${role === 'label' ? ', the intercept included' : ''}: every batch needs at least twice the widest party's columns in rows`,
  };
}

/** The party's handler of job.check: every problem of its file for the job, in one answer. */
export function checkHandler(
  hooksOf: (model: string) => PartyModelHooks | undefined,
): CommandHandler<CheckRequest, CheckReply> {
  return onCommand(job.check, async (cmd, { node }) => {
    const problem = (code: string, text: string, column?: string): DataProblem => ({
      code,
      file: cmd.data.path.split('/').pop()!.slice(0, 256),
      ...(column !== undefined ? { column } : {}),
      count: 1,
      lines: [],
      problem: text,
    });
    const early: DataProblem[] = [];
    if (cmd.role !== node.role)
      early.push(problem('ROLE', `${node.partyId} is configured as the ${node.role} party, the job says ${cmd.role}`));
    const hooks = hooksOf(cmd.model);
    if (!hooks) early.push(problem('MODEL', `${node.partyId} does not serve model "${cmd.model.slice(0, 32)}"`));
    if (cmd.role === 'feature' && cmd.data.labelColumn)
      early.push(problem('SPEC', 'a feature party takes no label column', cmd.data.labelColumn));
    for (const p of preprocessingProblems(cmd.data)) early.push(problem('SPEC', p));
    try {
      parseIdRules(cmd.idRules);
    } catch (e) {
      early.push(problem('SPEC', (e as Error).message));
    }
    let file: string;
    try {
      file = await node.resolveData(cmd.data.path);
    } catch (e) {
      if (!(e instanceof DataValidationError)) throw e;
      return { rows: 0, columns: 0, problems: [...early, problem(e.code, e.problem)], omitted: 0 };
    }
    if (!hooks) return { rows: 0, columns: 0, problems: early, omitted: 0 };
    const check = await checkPartyFile(
      file,
      tableOptions(cmd.data, cmd.role, hooks, cmd.labelled, cmd.batchSize, {
        objective: cmd.objective,
        model: cmd.model,
      }),
    );
    const problems = [...early, ...check.problems];
    let columns = 0;
    if (check.table) {
      const names = hasPreprocessing(cmd.data) ? plannedColumns(check.table, cmd.data) : check.table.featureNames;
      columns = names.length + (cmd.role === 'label' ? 1 : 0);
      const limit = hooks.miniBatches && cmd.labelled ? columnLimit(cmd.batchSize, cmd.role) : {};
      if (limit.maxFeatureColumns !== undefined && names.length > limit.maxFeatureColumns)
        problems.push(
          problem(
            'TOO_MANY_COLUMNS',
            `${names.length} model input columns after encoding, more than the limit of ${limit.maxFeatureColumns} (${limit.maxFeatureColumnsReason})`,
          ),
        );
    }
    return { rows: check.rows, columns, problems: problems.slice(0, 200), omitted: check.omitted };
  });
}

/** Every party's answer to job.check. */
export interface JobDataCheck {
  readonly ok: boolean;
  readonly parties: Record<string, CheckReply>;
  /** One line per problem, party first: `ecommerce: shop.csv, column "city": 30 times (lines …): …`. */
  readonly problems: string[];
  /** Problems found, those the per-kind cap left out of `problems` included. */
  readonly count: number;
}

/** The job's data problems at every party, asked in parallel; a party that cannot answer is a problem too. */
export async function checkJobData(
  spec: JobSpec,
  channels: ReadonlyMap<string, PartyChannel>,
  settings: { labelled: boolean; batchSize: number },
): Promise<JobDataCheck> {
  const answers = await Promise.all(
    spec.parties.map(async (p): Promise<[string, CheckReply]> => {
      const channel = channels.get(p.partyId);
      const failed = (text: string): CheckReply => ({
        rows: 0,
        columns: 0,
        omitted: 0,
        problems: [{ code: 'UNREACHABLE', file: p.data.path.slice(0, 256), count: 1, lines: [], problem: text }],
      });
      if (!channel) return [p.partyId, failed(`no connection to ${p.partyId}`)];
      try {
        const { reply } = await channel.call(job.check, {
          jobId: spec.jobId,
          model: spec.model,
          role: p.role,
          data: p.data,
          idRules: [...(spec.alignment?.idRules ?? [])],
          labelled: settings.labelled,
          batchSize: settings.batchSize,
          ...(spec.objective ? { objective: spec.objective } : {}),
        });
        return [p.partyId, reply];
      } catch (e) {
        return [p.partyId, failed(`the check did not run: ${(e as Error).message.slice(0, 300)}`)];
      }
    }),
  );
  const parties = Object.fromEntries(answers);
  const problems = answers.flatMap(([partyId, r]) => [
    ...r.problems.map((p) => `${partyId}: ${describeProblem(p)}`),
    ...(r.omitted ? [`${partyId}: and ${r.omitted} more columns with problems of the kinds above`] : []),
  ]);
  const count = answers.reduce((n, [, r]) => n + r.problems.length + r.omitted, 0);
  return { ok: count === 0, parties, problems, count };
}

/**
 * The data check found problems: every one of them, of every party, in the message; the job's
 * failure is put on the first party with problems (the message names the others).
 */
export class DataProblemsError extends PartyCallError {
  constructor(readonly check: JobDataCheck) {
    const n = check.count;
    const first = Object.entries(check.parties).find(([, r]) => r.problems.length > 0)?.[0] ?? COORDINATOR_ID;
    super(
      first,
      job.check.name,
      `the data check found ${n} problem${n === 1 ? '' : 's'}:\n  ${check.problems.join('\n  ')}`,
    );
    this.name = 'DataProblemsError';
  }
}
