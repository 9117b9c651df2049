/**
 * SecureBoost's commands and peer messages. One level of tree t (docs/protocol.md §5):
 *   label party:    sb.gradients   (encrypts g, h of the nodes to build: peer.sb.gradients to each feature party)
 *   feature party:  sb.histograms  (returns masked Enc(bin sums) to the coordinator; peer.sb.masks to the label party)
 *   coordinator:    decrypts each masked sum once
 *   label party:    sb.split       (unmasks, finds each node's best split; peer.sb.split asks the owner to partition)
 * Around the levels: sb.tree_begin and sb.tree_end at the label party; sb.evaluate after training.
 */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, nonNegativeInt, split } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { evaluationReply } from '../job/evaluation';
import { regressionMetrics } from '../job/commands';

/** A split's metrics: binary (maybe detailed), or a regression job's RMSE, MAE, R² and loss. */
const metricsReply = z.union([evaluationReply, regressionMetrics]);

const treeRef = { jobId, tree: nonNegativeInt };
const levelRef = { ...treeRef, depth: nonNegativeInt };
const nodeId = nonNegativeInt.max(1 << 20);
/** A node's ciphertexts, one per product group (bounded by the widest party's features). */
const ciphertexts = z.array(bytes).max(4096);

export const treeBegin = defineCommand('sb.tree_begin', z.object(treeRef), empty);
export const gradients = defineCommand(
  'sb.gradients',
  z.object(levelRef),
  z.object({ nodes: z.array(z.object({ node: nodeId, rows: nonNegativeInt })).max(1 << 16) }),
);
export const histograms = defineCommand(
  'sb.histograms',
  z.object(levelRef),
  z.object({ nodes: z.array(z.object({ node: nodeId, sums: ciphertexts })).max(1 << 16) }),
);
/** The coordinator's decryptions: the masked residues at the output coefficients, per party, node and product group. */
export const splitLevel = defineCommand(
  'sb.split',
  z.object({
    ...levelRef,
    released: z
      .array(z.object({ partyId: z.string().max(64), node: nodeId, sums: z.array(bytes).max(4096) }))
      .max(1 << 16),
  }),
  z.object({ open: nonNegativeInt, splits: nonNegativeInt }),
);
export const treeEnd = defineCommand(
  'sb.tree_end',
  z.object(treeRef),
  z.object({ validation: metricsReply, validationLoss: z.number(), leaves: nonNegativeInt, stop: z.boolean() }),
);
/** The label party's GBDT on its own features alone, with the same settings: the uplift baseline. */
export const baseline = defineCommand(
  'sb.baseline',
  z.object({ jobId }),
  z.object({ train: metricsReply, validation: metricsReply }),
);
export const evaluate = defineCommand('sb.evaluate', z.object({ jobId, split, detailed: z.boolean() }), metricsReply);

const nodeGradients = z.object({ node: nodeId, rows: bytes, chunks: ciphertexts });
export const gradientShare = definePeerMessage(
  'peer.sb.gradients',
  z.object({ tree: nonNegativeInt, depth: nonNegativeInt, nodes: z.array(nodeGradients).max(1 << 16) }),
);
/** The feature party's masks at the output coefficients, per node and product group. */
export const maskShare = definePeerMessage(
  'peer.sb.masks',
  z.object({
    tree: nonNegativeInt,
    depth: nonNegativeInt,
    nodes: z.array(z.object({ node: nodeId, masks: z.array(bytes).max(4096) })).max(1 << 16),
  }),
);
/** The label party asks a split's owner to partition the node: rows and passengers by row id. */
export const splitRequest = definePeerMessage(
  'peer.sb.split',
  z.object({
    tree: nonNegativeInt,
    node: nodeId,
    feature: nonNegativeInt,
    bin: nonNegativeInt,
    missingLeft: z.boolean(),
    rows: bytes,
    passengers: bytes,
  }),
);
export const splitReply = z.object({ record: nonNegativeInt, rows: bytes, passengers: bytes });

/** Prediction: the label party walks the saved trees, asking feature parties for directions. */
export const predictScores = defineCommand('sb.predict', z.object({ jobId }), empty);
/** Pairs of (record, row) whose direction the label party needs; the reply holds one byte per pair (1: left). */
export const directionQuery = definePeerMessage('peer.sb.directions', z.object({ records: bytes, rows: bytes }));
export const directionReply = z.object({ left: bytes });

/** One tree's report (as an epoch's, for the dashboard's charts). */
export const treeReport = z.object({
  epoch: nonNegativeInt,
  seconds: z.number(),
  validation: metricsReply,
  leaves: nonNegativeInt,
  validationLoss: z.number(),
  bytes: nonNegativeInt,
});
/** What the coordinator keeps with each per-tree checkpoint: the reports of the trees so far. */
export const trainingRecord = z.object({ reports: z.array(treeReport).max(1000) });
export type SbTrainingRecord = z.output<typeof trainingRecord>;

/** Feature importance over the kept trees (how many: early stopping's best): total gain and split count per feature. */
export const importance = defineCommand(
  'sb.importance',
  z.object({ jobId }),
  z.object({
    keptTrees: nonNegativeInt,
    features: z
      .array(
        z.object({
          partyId: z.string().max(64),
          /** The column's name for the label party's own features; null for another party's (it alone knows the name). */
          column: z.string().max(256).nullable(),
          index: nonNegativeInt,
          gain: z.number(),
          splits: nonNegativeInt,
        }),
      )
      .max(1 << 16),
  }),
);

/**
 * A feature party's importance, counted by the party itself from the split records it keeps: how
 * often each of its columns splits in the kept trees. It stays in the party's own log, by column
 * name; the reply carries only how many of its columns split. (Gains are the label party's figures
 * and stay with it: they are sums of gradients.)
 */
export const ownImportance = defineCommand(
  'sb.own_importance',
  z.object({ jobId, keptTrees: nonNegativeInt }),
  z.object({ columns: nonNegativeInt }),
);
