/**
 * The plaintext GBDT on pooled data: the SecureBoost bench's lossless reference and the label
 * party's own-features baseline. Every block is binned by `binBlock`, as each party bins its own;
 * blocks are ordered as the federated roster orders them (label party first).
 */
import { binColumn, BinEdges, fitBinEdges, missingBin } from './binning';
import { Booster, GbdtParams, TreeReport } from './booster';
import { buildHistogram, Histogram } from './histogram';
import type { SplitCandidate } from './split';
import type { OpenNode, Partition, TreeNode } from './tree-grower';

/** One party's features, binned: columns by row id, and the edges fitted on training rows. */
export interface BinnedBlock {
  readonly binned: Uint8Array[];
  readonly edges: BinEdges[];
}

/** Bins a row-major matrix (`columns` wide; NaN = missing) on the training rows' quantiles. */
export function binBlock(
  matrix: Float64Array,
  columns: number,
  train: ArrayLike<number>,
  maxBins: number,
): BinnedBlock {
  const rows = columns === 0 ? 0 : matrix.length / columns;
  const binned: Uint8Array[] = [];
  const edges: BinEdges[] = [];
  for (let j = 0; j < columns; j++) {
    const column = new Float64Array(rows);
    for (let r = 0; r < rows; r++) column[r] = matrix[r * columns + j];
    const e = fitBinEdges(column, train, maxBins);
    edges.push(e);
    binned.push(binColumn(column, e, missingBin(maxBins)));
  }
  return { binned, edges };
}

/** Which of `rows` go left under `split` on a block's binned columns. */
export function partitionRows(
  block: BinnedBlock,
  split: SplitCandidate,
  maxBins: number,
  rows: Int32Array,
): Uint8Array {
  const column = block.binned[split.feature];
  const missing = missingBin(maxBins);
  return Uint8Array.from(rows, (r) => {
    const bin = column[r];
    return (bin === missing ? split.missingLeft : bin <= split.bin) ? 1 : 0;
  });
}

/** Partition of a node's rows and passengers on a local block. */
export function localPartition(block: BinnedBlock, node: OpenNode, split: SplitCandidate, maxBins: number): Partition {
  return {
    rows: partitionRows(block, split, maxBins, node.rows),
    passengers: partitionRows(block, split, maxBins, node.passengers),
  };
}

export interface ReferenceResult {
  readonly trees: TreeNode[][];
  readonly keptTrees: number;
  readonly reports: readonly TreeReport[];
  /** Probabilities (logistic) or values, for the training and the validation rows. */
  readonly train: Float64Array;
  readonly validation: Float64Array;
}

/** Trains the GBDT in plaintext on all blocks; the trees are the federated run's. */
export async function trainGbdtReference(input: {
  readonly blocks: readonly BinnedBlock[];
  readonly labels: ArrayLike<number>;
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly params: GbdtParams;
  /** Called for every node whose histograms are built, with its tree and row count (the bench's operation counts). */
  readonly onBuild?: (tree: number, rows: number) => void;
}): Promise<ReferenceResult> {
  const { blocks, params } = input;
  const booster = new Booster(
    params,
    input.labels,
    input.train,
    input.validation,
    blocks.map((b) => b.binned.length),
  );
  for (let t = 0; t < params.trees; t++) {
    const grower = booster.beginTree(t);
    const { g, h } = grower.gradients;
    while (!grower.grown) {
      const histograms = new Map<number, Histogram[]>();
      for (const node of grower.level()) {
        if (!node.build) continue;
        input.onBuild?.(t, node.rows.length);
        const [gNode, hNode] = [pickRows(g, node.rows), pickRows(h, node.rows)];
        histograms.set(
          node.id,
          blocks.map((b) => buildHistogram(b.binned, node.rows, gNode, hNode, params.maxBins)),
        );
      }
      await grower.split(histograms, (node, block, split) =>
        localPartition(blocks[block], node, split, params.maxBins),
      );
    }
    if (booster.endTree(grower)) break;
  }
  return {
    trees: booster.trees,
    keptTrees: booster.keptTrees(),
    reports: booster.reports,
    train: booster.predictions(input.train),
    validation: booster.predictions(input.validation),
  };
}

function pickRows(values: Float64Array, rows: Int32Array): Float64Array {
  return Float64Array.from(rows, (r) => values[r]);
}
