/**
 * Scoring new rows with a saved SecureBoost model, in as many rounds as the trees are deep. The
 * label party walks every tree for every row; at its own splits it compares its own values, and
 * for a feature party's split it batches (record, row) queries, one peer message per party and
 * round, and the owner answers left or right. A feature party learns which requested rows reach
 * which of its records (as in training, SecureBoost's instance spaces) and never a score; the
 * label party learns the direction at the feature party's nodes on each row's path, not a value.
 */
import { objective } from '@vfl/ml';
import { PartyError } from '../party/party-error';
import type { SecureBoostFeatureModel, SecureBoostLabelModel, StoredTreeNode } from './model';

/** Values of the rows to score, row-major over the model's columns (NaN: missing or not held). */
export interface ScoringRows {
  readonly count: number;
  readonly values: Float64Array;
  readonly columns: number;
}

/** What the label party asks one feature party in one round: pairs of (record, row). */
export interface DirectionQuery {
  readonly records: Int32Array;
  readonly rows: Int32Array;
}

export type AskDirections = (partyId: string, query: DirectionQuery) => Promise<Uint8Array>;

/** A feature party's answers: 1 where the row goes left at the record's split. */
export function answerDirections(model: SecureBoostFeatureModel, rows: ScoringRows, query: DirectionQuery): Uint8Array {
  if (query.records.length !== query.rows.length) throw new PartyError('a direction query pairs records with rows');
  return Uint8Array.from(query.records, (record, i) => {
    const split = model.records[record];
    const row = query.rows[i];
    if (!split || !(row >= 0 && row < rows.count))
      throw new PartyError('a direction query names no such record or row');
    return goesLeft(rows.values[row * rows.columns + split.column], split.threshold, split.missingLeft) ? 1 : 0;
  });
}

/** The label party's scores (probabilities, or values for squared error) of every row. */
export async function scoreRows(
  model: SecureBoostLabelModel,
  rows: ScoringRows,
  ask: AskDirections,
): Promise<Float64Array> {
  const scores = new Float64Array(rows.count).fill(model.baseScore);
  // One cursor per (tree, row): the node it has reached.
  const cursors = model.trees.map(() => new Int32Array(rows.count));
  for (let round = 0; ; round++) {
    const queries = new Map<string, { records: number[]; rows: number[]; at: [number, number][] }>();
    model.trees.forEach((tree, t) => {
      const cursor = cursors[t];
      for (let r = 0; r < rows.count; r++) {
        const node = descendOwn(tree, cursor[r], rows, r);
        cursor[r] = node;
        const split = tree[node].split;
        if (split?.kind !== 'party') continue;
        const q = queries.get(split.owner) ?? { records: [], rows: [], at: [] };
        q.records.push(split.record);
        q.rows.push(r);
        q.at.push([t, r]);
        queries.set(split.owner, q);
      }
    });
    if (queries.size === 0) break;
    if (round > 64) throw new PartyError('the saved trees do not end in leaves');
    await Promise.all(
      [...queries].map(async ([partyId, q]) => {
        const left = await ask(partyId, { records: Int32Array.from(q.records), rows: Int32Array.from(q.rows) });
        if (left.length !== q.at.length)
          throw new PartyError(`${partyId} answered ${left.length} of ${q.at.length} queries`);
        q.at.forEach(([t, r], i) => {
          const node = model.trees[t][cursors[t][r]];
          cursors[t][r] = left[i] === 1 ? node.left! : node.right!;
        });
      }),
    );
  }
  model.trees.forEach((tree, t) => {
    for (let r = 0; r < rows.count; r++) scores[r] += tree[cursors[t][r]].leaf ?? 0;
  });
  const link = objective(model.objective);
  return scores.map((s) => link.transform(s));
}

/** Follows the label party's own splits from `node` until a leaf or another party's split. */
function descendOwn(tree: readonly StoredTreeNode[], node: number, rows: ScoringRows, r: number): number {
  for (;;) {
    const n = tree[node];
    if (!n) throw new PartyError('the saved tree refers to a node it lacks');
    const split = n.split;
    if (split?.kind !== 'own') return node;
    const value = rows.values[r * rows.columns + split.column];
    node = goesLeft(value, split.threshold, split.missingLeft) ? n.left! : n.right!;
  }
}

function goesLeft(value: number, threshold: number, missingLeft: boolean): boolean {
  return Number.isNaN(value) ? missingLeft : value <= threshold;
}
