/**
 * Every problem of a party's file in one pass, grouped and capped, for a data check before any
 * job work starts. A group is one kind of problem in one column (or of the file); it carries a
 * count and the first few lines, never a cell's content or an ID.
 */
import { readFile } from 'node:fs/promises';
import { DataValidationError } from './data-validation-error';
import { parsePartyTable, type LoadTableOptions, type PartyTable } from './party-table';

export interface TableProblem {
  readonly code: string;
  readonly file: string;
  /** The column, when the problem is in one. */
  readonly column?: string;
  /** How many times it occurs. */
  readonly count: number;
  /** The first lines it occurs on (at most `linesPerProblem`). */
  readonly lines: number[];
  /** What is wrong (and what fixes it), as for the first occurrence, without its place. */
  readonly problem: string;
}

export interface TableCheck {
  /** Data rows read (0 when the header could not be read). */
  readonly rows: number;
  readonly problems: TableProblem[];
  /** Groups left out by the per-kind cap. */
  readonly omitted: number;
  /** The table as read, when nothing was wrong with it. */
  readonly table?: PartyTable;
}

export interface CheckLimits {
  /** Groups (columns) listed per kind of problem. Default 10. */
  readonly groupsPerKind?: number;
  /** Lines listed per group. Default 5. */
  readonly linesPerProblem?: number;
}

/**
 * Read `bytes` as {@link parsePartyTable} would with `options`, collecting every problem.
 */
export function checkPartyTable(
  bytes: string | Buffer,
  source: string,
  options: LoadTableOptions,
  limits: CheckLimits = {},
): TableCheck {
  const groupsPerKind = limits.groupsPerKind ?? 10;
  const linesPerProblem = limits.linesPerProblem ?? 5;
  const groups = new Map<string, { problem: TableProblem; lines: number[] }>();
  let count = 0;
  const add = (e: DataValidationError) => {
    count++;
    // One group per kind, column and wording (numbers aside: "first seen on line 7", "a value of 5 characters").
    const key = `${e.code}\u0000${e.column ?? ''}\u0000${e.problem.replace(/\d+/g, '#')}`;
    const group = groups.get(key);
    if (group) {
      (group.problem as { count: number }).count++;
      if (e.line !== undefined && group.lines.length < linesPerProblem) group.lines.push(e.line);
      return;
    }
    const lines = e.line !== undefined ? [e.line] : [];
    groups.set(key, {
      lines,
      problem: {
        code: e.code,
        file: e.file ?? source,
        ...(e.column !== undefined ? { column: e.column } : {}),
        count: 1,
        lines,
        problem: e.problem,
      },
    });
  };
  let table: PartyTable | undefined;
  try {
    table = parsePartyTable(bytes, source, { ...options, problems: add });
  } catch (e) {
    if (!(e instanceof DataValidationError)) throw e;
    add(e);
  }
  const shownPerKind = new Map<string, number>();
  const problems: TableProblem[] = [];
  let omitted = 0;
  // A text column's empty cells are not a problem of their own: declared categorical, they are a level.
  const textColumns = new Set(
    [...groups.values()]
      .filter(({ problem: p }) => p.code === 'NON_NUMERIC' && !p.problem.startsWith('empty cell'))
      .map(({ problem: p }) => p.column),
  );
  for (const { problem } of groups.values()) {
    if (problem.code === 'NON_NUMERIC' && problem.problem.startsWith('empty cell') && textColumns.has(problem.column))
      continue;
    const shown = shownPerKind.get(problem.code) ?? 0;
    if (shown >= groupsPerKind) {
      omitted++;
      continue;
    }
    shownPerKind.set(problem.code, shown + 1);
    problems.push(problem);
  }
  return {
    rows: table?.ids.length ?? 0,
    problems,
    omitted,
    ...(count === 0 && table ? { table } : {}),
  };
}

/** {@link checkPartyTable} of a file; a file that cannot be read is one FILE_NOT_FOUND problem. */
export async function checkPartyFile(
  path: string,
  options: LoadTableOptions,
  limits?: CheckLimits,
): Promise<TableCheck> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'EISDIR'
        ? 'path is a directory, not a file'
        : code === 'ENOENT'
          ? 'file not found'
          : 'file cannot be read';
    const e = new DataValidationError('FILE_NOT_FOUND', problem, { file: path });
    return { rows: 0, omitted: 0, problems: [{ code: e.code, file: e.file!, count: 1, lines: [], problem }] };
  }
  return checkPartyTable(bytes, path, options, limits);
}

/**
 * One line per problem: `bank.csv, column "x2": 1,338 times (lines 2, 5, 9, …): empty cell, …`, or
 * for a single one `bank.csv, column "id", line 4: duplicate id (…)`.
 */
export function describeProblem(p: TableProblem): string {
  const where = `${p.file}${p.column !== undefined ? `, column ${JSON.stringify(p.column.slice(0, 64))}` : ''}`;
  if (p.count <= 1) return `${where}${p.lines.length ? `, line ${p.lines[0]}` : ''}: ${p.problem}`;
  const more = p.count > p.lines.length ? ', …' : '';
  const lines = p.lines.length ? ` (line${p.lines.length > 1 ? 's' : ''} ${p.lines.join(', ')}${more})` : '';
  return `${where}: ${p.count.toLocaleString('en')} times${lines}: ${p.problem}`;
}
