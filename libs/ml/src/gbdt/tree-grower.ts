/**
 * Grows one regression tree level by level, the same way whether every block of features is
 * local (the plaintext reference) or some blocks belong to other parties (SecureBoost's label
 * party): the caller hands in each built node's histograms per block and a partition function per
 * block; everything else (which child to build, histogram subtraction, the split rule, leaves)
 * is here, so the federated trees and the reference's are the same trees by construction.
 */
import { Histogram, subtractHistogram } from './histogram';
import { bestSplitAcross, leafWeight, SplitCandidate, SplitParams } from './split';

/** A node of a grown tree. A split node names its block (0: the label party's own features) and the split. */
export interface TreeNode {
  readonly id: number;
  readonly depth: number;
  /** A leaf's value: −G/(H+λ) times the learning rate. */
  leaf?: number;
  split?: { readonly block: number; readonly candidate: SplitCandidate };
  left?: number;
  right?: number;
}

/** A node of the current level whose split is to be found; `build` nodes need their histograms built. */
export interface OpenNode {
  readonly id: number;
  readonly depth: number;
  /** The tree's training rows in the node (row ids, ascending): they make the histograms. */
  readonly rows: Int32Array;
  /** Rows routed through the tree without shaping it (validation rows, training rows outside the
   * tree's sample), so that every row's score follows the tree as it grows. */
  readonly passengers: Int32Array;
  /** True for the root and the smaller child of each split; the sibling's histograms come by subtraction. */
  readonly build: boolean;
}

/** Which of a node's rows and passengers go left under a split (1 = left). */
export interface Partition {
  readonly rows: Uint8Array;
  readonly passengers: Uint8Array;
}

export type PartitionFn = (node: OpenNode, block: number, split: SplitCandidate) => Promise<Partition> | Partition;

export interface TreeParams extends SplitParams {
  readonly maxDepth: number;
  readonly learningRate: number;
}

interface Pending extends OpenNode {
  readonly parent?: { readonly histograms: readonly Histogram[]; readonly sibling: number };
}

export class TreeGrower {
  readonly nodes: TreeNode[] = [];
  private open: Pending[];
  /** The rows that reached each node (leaves among them score the rows). */
  private readonly reached = new Map<number, { rows: Int32Array; passengers: Int32Array }>();

  constructor(
    private readonly params: TreeParams,
    /** Quantised g and h, indexed by row id. */
    private readonly g: Float64Array,
    private readonly h: Float64Array,
    rows: Int32Array,
    passengers: Int32Array,
    /** Per block, which features this tree may split on (column subsampling); undefined: all. */
    private readonly masks?: readonly (ArrayLike<boolean> | undefined)[],
  ) {
    this.nodes.push({ id: 0, depth: 0 });
    this.open = [{ id: 0, depth: 0, rows, passengers, build: true }];
    this.closeTooDeep();
  }

  /** The tree's quantised g and h, by row id. */
  get gradients(): { readonly g: Float64Array; readonly h: Float64Array } {
    return { g: this.g, h: this.h };
  }

  /** The nodes whose splits the next `split` call decides (empty when the tree is grown). */
  level(): readonly OpenNode[] {
    return this.open;
  }

  get grown(): boolean {
    return this.open.length === 0;
  }

  /**
   * Decides the current level: `histograms` holds, for every `build` node, one histogram per
   * block; each split node's rows are partitioned by its block's owner through `partition`.
   */
  async split(histograms: ReadonlyMap<number, readonly Histogram[]>, partition: PartitionFn): Promise<void> {
    const all = new Map<number, readonly Histogram[]>();
    for (const node of this.open) {
      if (!node.build) continue;
      const h = histograms.get(node.id);
      if (!h) throw new RangeError(`node ${node.id}: no histograms were given`);
      all.set(node.id, h);
    }
    for (const node of this.open) {
      if (node.build) continue;
      const { parent } = node;
      const sibling = all.get(parent!.sibling)!;
      all.set(
        node.id,
        parent!.histograms.map((p, block) => subtractHistogram(p, sibling[block])),
      );
    }
    const next: Pending[] = [];
    const decisions = this.open.map(async (node) => {
      const hists = all.get(node.id)!;
      const best = node.rows.length >= 2 ? bestSplitAcross(hists, this.params, this.masks) : null;
      if (!best) return this.makeLeaf(node.id, totals(node.rows, this.g, this.h));
      const parts = await partition(node, best.block, best.split);
      return { node, best, parts, hists };
    });
    for (const decided of await Promise.all(decisions)) {
      if (!decided) continue;
      const { node, best, parts, hists } = decided;
      const left = pick(node.rows, parts.rows, 1);
      const right = pick(node.rows, parts.rows, 0);
      if (left.length === 0 || right.length === 0) throw new RangeError(`node ${node.id}: a split left one side empty`);
      const tree = this.nodes[node.id];
      tree.split = { block: best.block, candidate: best.split };
      tree.left = this.nodes.length;
      tree.right = this.nodes.length + 1;
      this.nodes.push({ id: tree.left, depth: node.depth + 1 }, { id: tree.right, depth: node.depth + 1 });
      const buildLeft = left.length <= right.length;
      const children: [number, Int32Array, Int32Array, boolean][] = [
        [tree.left, left, pick(node.passengers, parts.passengers, 1), buildLeft],
        [tree.right, right, pick(node.passengers, parts.passengers, 0), !buildLeft],
      ];
      for (const [id, rows, passengers, build] of children) {
        const sibling = id === tree.left ? tree.right : tree.left;
        next.push({ id, depth: node.depth + 1, rows, passengers, build, parent: { histograms: hists, sibling } });
      }
    }
    this.open = next;
    this.closeTooDeep();
  }

  /** Adds every leaf's value to the scores (by row id) of the rows and passengers that reach it. */
  apply(scores: Float64Array): void {
    for (const [id, reached] of this.reached) {
      const leaf = this.nodes[id].leaf;
      if (leaf === undefined) continue;
      for (const r of reached.rows) scores[r] += leaf;
      for (const r of reached.passengers) scores[r] += leaf;
    }
  }

  /** Nodes at the maximum depth are leaves (their totals need no histograms). */
  private closeTooDeep(): void {
    const keep: Pending[] = [];
    for (const node of this.open) {
      this.reached.set(node.id, { rows: node.rows, passengers: node.passengers });
      if (node.depth < this.params.maxDepth) keep.push(node);
      else this.makeLeaf(node.id, totals(node.rows, this.g, this.h));
    }
    // Siblings share a depth, so a node kept open always has its sibling open beside it.
    this.open = keep;
  }

  private makeLeaf(id: number, sums: { G: number; H: number }): void {
    this.nodes[id].leaf = leafWeight(sums.G, sums.H, this.params.lambda) * this.params.learningRate;
  }
}

function totals(rows: Int32Array, g: Float64Array, h: Float64Array): { G: number; H: number } {
  let G = 0;
  let H = 0;
  for (const r of rows) {
    G += g[r];
    H += h[r];
  }
  return { G, H };
}

function pick(rows: Int32Array, left: Uint8Array, side: 0 | 1): Int32Array {
  if (left.length !== rows.length) throw new RangeError('a partition must have one entry per row of the node');
  let count = 0;
  for (let i = 0; i < rows.length; i++) if ((left[i] === 1 ? 1 : 0) === side) count++;
  const out = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < rows.length; i++) if ((left[i] === 1 ? 1 : 0) === side) out[k++] = rows[i];
  return out;
}
