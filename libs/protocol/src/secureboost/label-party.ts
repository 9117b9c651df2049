/**
 * The label party's side of SecureBoost: the booster (g, h, trees, scores), its own features'
 * histograms in plaintext, the encryption of each built node's g and h, and the unmasking of the
 * feature parties' bin sums. What it learns of a feature party: per node, the bin sums of g and h
 * of each sampled feature (as SecureBoost's active party does), and which rows go left at the
 * splits it chose there; never a threshold or a feature's name.
 */
import type { BfvContext, BfvEngine } from '@vfl/crypto';
import {
  BinEdges,
  BinnedBlock,
  BoosterState,
  Booster,
  columnMask,
  emptyHistogram,
  GbdtParams,
  Histogram,
  histogramIndex,
  localPartition,
  OpenNode,
  Partition,
  SplitCandidate,
  buildHistogram,
  toFixedPoint,
  TreeGrower,
  ReferenceResult,
  trainGbdtReference,
} from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { bytesToU64 } from './bytes';
import {
  fitsPacking,
  gradientChunks,
  GradientPacking,
  nodeLayout,
  productGroups,
  treePacking,
  unpackSum,
} from './packing';

export interface FeatureBlock {
  readonly partyId: string;
  /** 1 + the party's place among the feature parties in the roster. */
  readonly block: number;
  readonly features: number;
}

/** What a feature party's split is known as here: its owner and the owner's record id. */
export interface RemoteSplit {
  readonly partyId: string;
  readonly record: number;
}

export interface ImportanceRow {
  partyId: string;
  column: string | null;
  index: number;
  gain: number;
  splits: number;
}

export type RemotePartition = (
  party: FeatureBlock,
  node: OpenNode,
  split: SplitCandidate,
) => Promise<Partition & { record: number }>;

export class SecureBoostLabel {
  readonly booster: Booster;
  private grower: TreeGrower | undefined;
  private tree = -1;
  private fixed: { g: Float64Array; h: Float64Array } | undefined;
  /** The current tree's packing: the job's (logistic) or this tree's own (squared error). */
  private packing: GradientPacking | undefined;
  /** Per tree and node, the record of a feature party's split. */
  readonly remoteSplits = new Map<string, RemoteSplit>();

  constructor(
    private readonly bfv: BfvContext,
    /** Encrypts the chunks (inline or on worker threads holding the public key). */
    private readonly engine: BfvEngine,
    readonly params: GbdtParams,
    /** Labels by row id (they never leave this party). */
    readonly labels: ArrayLike<number>,
    train: Int32Array,
    validation: Int32Array,
    private readonly own: BinnedBlock,
    readonly parties: readonly FeatureBlock[],
    /** How g and h share a coefficient for the whole job (logistic); none: per tree (squared error). */
    private readonly jobPacking: GradientPacking | undefined,
  ) {
    if (jobPacking ? jobPacking.fractionBits !== params.fractionBits : !params.treeFractionBits)
      throw new PartyError('the packing and the booster disagree on the precision');
    this.booster = new Booster(params, labels, train, validation, [
      own.binned.length,
      ...parties.map((p) => p.features),
    ]);
  }

  get plainModulus(): bigint {
    return this.bfv.plainModulus;
  }

  get ownEdges(): readonly BinEdges[] {
    return this.own.edges;
  }

  beginTree(tree: number): void {
    if (tree !== this.booster.trees.length) throw new PartyError(`tree ${tree} out of order`);
    this.tree = tree;
    try {
      this.grower = this.booster.beginTree(tree);
    } catch (e) {
      // A squared-error tree whose residuals no longer pack (packing.ts): refused, never NaN.
      if (e instanceof RangeError) throw new PartyError(`tree ${tree}: ${e.message}`);
      throw e;
    }
    const { g, h } = this.grower.gradients;
    // The booster quantised this tree's g and h at its own precision (per tree for squared error).
    const bits = this.booster.fractionBits;
    this.fixed = { g: toFixedPoint(g, bits), h: toFixedPoint(h, bits) };
    this.packing = this.jobPacking ?? treePacking(bits, this.fixed.g);
    if (!fitsPacking(this.packing, this.fixed.g, this.fixed.h, this.bfv.plainModulus))
      throw new PartyError(
        `tree ${tree}: the gradients outgrew their packing (${this.packing.fractionBits} fraction bits): lower positiveWeight or the learning rate`,
      );
  }

  /** The built nodes of this level, each with its rows and its chunks of Enc(g, h). */
  async encryptLevel(depth: number): Promise<{ node: number; rows: Int32Array; chunks: Uint8Array[] }[]> {
    const grower = this.current(depth);
    const t = this.bfv.plainModulus;
    const built = grower.level().filter((n) => n.build);
    const plain = built.map((n) => {
      const layout = nodeLayout(this.bfv.degree, this.params.maxBins, n.rows.length);
      return gradientChunks(layout, n.rows, this.fixed!.g, this.fixed!.h, this.packing!, t);
    });
    // One batch for the whole level, so the workers share it evenly.
    const encrypted = await this.engine.encrypt(plain.flat());
    let at = 0;
    return built.map((n, k) => {
      const chunks = encrypted.slice(at, at + plain[k].length);
      at += plain[k].length;
      return { node: n.id, rows: n.rows, chunks };
    });
  }

  /**
   * Decides the level: own histograms in plaintext, each feature party's from the coordinator's
   * masked decryptions less that party's masks; remote splits are partitioned by their owner.
   */
  async splitLevel(
    depth: number,
    released: ReadonlyMap<string, ReadonlyMap<number, readonly Uint8Array[]>>,
    masks: ReadonlyMap<string, ReadonlyMap<number, readonly Uint8Array[]>>,
    remote: RemotePartition,
  ): Promise<{ open: number; splits: number }> {
    const grower = this.current(depth);
    const { g, h } = grower.gradients;
    const histograms = new Map<number, Histogram[]>();
    for (const node of grower.level()) {
      if (!node.build) continue;
      const own = buildHistogram(
        this.own.binned,
        node.rows,
        pick(g, node.rows),
        pick(h, node.rows),
        this.params.maxBins,
      );
      const remoteHistograms = this.parties.map((p) =>
        this.unmask(p, node, released.get(p.partyId)?.get(node.id), masks.get(p.partyId)?.get(node.id)),
      );
      histograms.set(node.id, [own, ...remoteHistograms]);
    }
    const before = grower.nodes.length;
    await grower.split(histograms, async (node, block, split) => {
      if (block === 0) return localPartition(this.own, node, split, this.params.maxBins);
      const party = this.parties[block - 1];
      const { record, ...partition } = await remote(party, node, split);
      this.remoteSplits.set(`${this.tree}:${node.id}`, { partyId: party.partyId, record });
      return partition;
    });
    return { open: grower.level().length, splits: (grower.nodes.length - before) / 2 };
  }

  /** The trees so far, scores, early-stopping state and the feature parties' record ids. */
  checkpointState(): { booster: BoosterState; remoteSplits: [string, RemoteSplit][] } {
    if (this.grower) throw new PartyError(`tree ${this.tree} is still being grown`);
    return { booster: this.booster.exportState(), remoteSplits: [...this.remoteSplits] };
  }

  restoreState(state: { booster: BoosterState; remoteSplits: [string, RemoteSplit][] }): void {
    this.booster.importState(state.booster);
    this.remoteSplits.clear();
    for (const [key, split] of state.remoteSplits) this.remoteSplits.set(key, split);
    this.tree = this.booster.trees.length - 1;
  }

  endTree(): { validationLoss: number; leaves: number; stop: boolean } {
    const grower = this.grower;
    if (!grower?.grown) throw new PartyError(`tree ${this.tree} is not grown yet`);
    const stop = this.booster.endTree(grower);
    this.grower = undefined;
    const report = this.booster.reports.at(-1)!;
    return { validationLoss: report.validationLoss, leaves: report.leaves, stop };
  }

  /**
   * Gain and split count per feature over the kept trees, the most important first: this party's
   * own columns by name, another party's by its position only (its names stay with it).
   */
  importance(ownNames: readonly string[], selfId: string): ImportanceRow[] {
    const totals = new Map<string, ImportanceRow>();
    for (const tree of this.booster.trees.slice(0, this.booster.keptTrees())) {
      for (const node of tree) {
        if (!node.split) continue;
        const { block, candidate } = node.split;
        const partyId = block === 0 ? selfId : this.parties[block - 1].partyId;
        const key = `${block}:${candidate.feature}`;
        const row = totals.get(key) ?? {
          partyId,
          column: block === 0 ? ownNames[candidate.feature] : null,
          index: candidate.feature,
          gain: 0,
          splits: 0,
        };
        row.gain += candidate.gain;
        row.splits++;
        totals.set(key, row);
      }
    }
    return [...totals.values()].sort((a, b) => b.gain - a.gain);
  }

  /** The same GBDT on this party's own features alone, in plaintext: the uplift baseline. */
  ownFeaturesOnly(): Promise<ReferenceResult> {
    const { train, validation } = this.booster;
    // In plaintext nothing is packed: one precision (the first tree's) serves every tree.
    const { treeFractionBits: _packed, ...params } = this.params;
    return trainGbdtReference({ blocks: [this.own], labels: this.labels, train, validation, params });
  }

  private current(depth: number): TreeGrower {
    const grower = this.grower;
    if (!grower) throw new PartyError('no tree is being grown');
    const level = grower.level();
    if (level.length === 0) throw new PartyError(`tree ${this.tree} is already grown`);
    if (level[0].depth !== depth) throw new PartyError(`tree ${this.tree} is at depth ${level[0].depth}, not ${depth}`);
    return grower;
  }

  /** A feature party's histogram of one node: (released − mask) mod t, coefficient by output coefficient, as fixed point. */
  private unmask(
    party: FeatureBlock,
    node: OpenNode,
    released: readonly Uint8Array[] | undefined,
    masks: readonly Uint8Array[] | undefined,
  ): Histogram {
    const { maxBins } = this.params;
    const packing = this.packing;
    if (!packing) throw new PartyError('no tree is being grown');
    const layout = nodeLayout(this.bfv.degree, maxBins, node.rows.length);
    const sampled = sampledFeatures(this.params, this.tree, party.block, party.features);
    const groups = productGroups(layout, sampled);
    if (released?.length !== groups.length || masks?.length !== groups.length)
      throw new PartyError(`node ${node.id}: ${party.partyId}'s sums are missing or of the wrong count`);
    const histogram = emptyHistogram(party.features, maxBins);
    const scale = 2 ** -packing.fractionBits;
    const t = this.bfv.plainModulus;
    groups.forEach((group, k) => {
      const values = bytesToU64(released[k], 'released sums');
      const mask = bytesToU64(masks[k], 'masks');
      const width = group.length * layout.slots;
      if (values.length !== width || mask.length !== width)
        throw new PartyError(`node ${node.id}: ${party.partyId}'s sums have the wrong shape`);
      group.forEach((feature, q) => {
        for (let b = 0; b < layout.slots; b++) {
          const at = q * layout.slots + b;
          const { g, h } = unpackSum(this.bfv.mod(values[at] - mask[at]), packing, t);
          const index = histogramIndex(maxBins, feature, b);
          histogram.sums[index] = g * scale;
          histogram.sums[index + 1] = h * scale;
        }
      });
    });
    return histogram;
  }
}

/** The features of `block` tree `tree` may split on, ascending (all when there is no column sampling). */
export function sampledFeatures(params: GbdtParams, tree: number, block: number, features: number): number[] {
  const mask = columnMask(params, tree, block, features);
  return Array.from({ length: features }, (_, f) => f).filter((f) => !mask || mask[f]);
}

function pick(values: Float64Array, rows: Int32Array): Float64Array {
  return Float64Array.from(rows, (r) => values[r]);
}
