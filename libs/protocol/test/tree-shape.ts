/** Trees as comparable plain data: each split's (block, feature, bin, missing direction, left child), each leaf's value. */
import type { TreeNode } from '@vfl/ml';

export const treeShape = (trees: readonly TreeNode[][]) =>
  trees.map((t) =>
    t.map((n) =>
      n.split
        ? [n.split.block, n.split.candidate.feature, n.split.candidate.bin, n.split.candidate.missingLeft, n.left]
        : n.leaf,
    ),
  );
