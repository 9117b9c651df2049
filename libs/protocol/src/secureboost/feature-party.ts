/**
 * A feature party's side of SecureBoost: its binned features, the encrypted bin sums of each node
 * the label party builds (masked before they leave), and its lookup table of the splits it owns.
 * What it learns: the rows of every node it builds or splits (SecureBoost's instance spaces), and
 * its own splits' feature and bin; never a gradient (it holds only Enc(g, h)) nor a label.
 */
import type { BfvContext, BfvEngine } from '@vfl/crypto';
import { BinnedBlock, GbdtParams, partitionRows, SplitCandidate } from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { u64ToBytes } from './bytes';
import { sampledFeatures } from './label-party';
import { nodeLayout, oneHotTerms, outputPositions, productGroups, uniformResidues } from './packing';

/** A split this party owns, as it keeps it: the label party knows it only by `record`. */
export interface SplitRecord {
  readonly tree: number;
  readonly node: number;
  readonly feature: number;
  readonly bin: number;
  readonly missingLeft: boolean;
}

export interface NodeSums {
  readonly node: number;
  /** Masked Enc(bin sums), one per product group, for the coordinator to decrypt. */
  readonly sums: Uint8Array[];
  /** The masks at the output coefficients, for the label party. */
  readonly masks: Uint8Array[];
}

export class SecureBoostFeature {
  readonly records: SplitRecord[] = [];

  constructor(
    private readonly bfv: BfvContext,
    /** Runs the products (inline or on worker threads). */
    private readonly engine: BfvEngine,
    readonly params: GbdtParams,
    /** 1 + this party's place among the feature parties. */
    readonly block: number,
    readonly own: BinnedBlock,
    /** Training row ids (a node's rows must be among them) and the number of aligned rows. */
    private readonly train: ReadonlySet<number>,
    private readonly rowCount: number,
  ) {}

  /** The masked bin sums of every node the label party sent Enc(g, h) for. */
  async histograms(
    tree: number,
    nodes: readonly { node: number; rows: Int32Array; chunks: readonly Uint8Array[] }[],
  ): Promise<NodeSums[]> {
    const sampled = sampledFeatures(this.params, tree, this.block, this.own.binned.length);
    const t = this.bfv.plainModulus;
    const out: NodeSums[] = [];
    for (const { node, rows, chunks } of nodes) {
      this.checkRows(rows, node, true);
      const layout = nodeLayout(this.bfv.degree, this.params.maxBins, rows.length);
      if (chunks.length !== layout.chunks)
        throw new PartyError(
          `node ${node}: ${chunks.length} chunks for ${rows.length} rows, expected ${layout.chunks}`,
        );
      const groups = productGroups(layout, sampled);
      const outputs = groups.map((group) => ({
        terms: Array.from({ length: layout.chunks }, (_, c) => oneHotTerms(layout, rows, c, group, this.own.binned)),
        mask: uniformResidues(this.bfv.degree, t),
      }));
      const sums = await this.engine.productSums(chunks, outputs);
      const masks = groups.map((group, k) =>
        u64ToBytes(BigUint64Array.from(outputPositions(layout, group.length), (p) => outputs[k].mask[p])),
      );
      out.push({ node, sums, masks });
    }
    return out;
  }

  /** Partitions a node on one of this party's splits and keeps the split; returns its record id. */
  split(
    tree: number,
    node: number,
    split: Pick<SplitCandidate, 'feature' | 'bin' | 'missingLeft'>,
    rows: Int32Array,
    passengers: Int32Array,
  ): { record: number; rows: Uint8Array; passengers: Uint8Array } {
    if (split.feature >= this.own.binned.length || split.bin >= this.params.maxBins)
      throw new PartyError(`node ${node}: no such split here`);
    this.checkRows(rows, node, true);
    this.checkRows(passengers, node, false);
    const candidate = { ...split, gain: 0, left: { G: 0, H: 0 }, right: { G: 0, H: 0 } };
    const record = this.records.length;
    this.records.push({ tree, node, feature: split.feature, bin: split.bin, missingLeft: split.missingLeft });
    return {
      record,
      rows: partitionRows(this.own, candidate, this.params.maxBins, rows),
      passengers: partitionRows(this.own, candidate, this.params.maxBins, passengers),
    };
  }

  /** Split count per own column over the first `keptTrees` trees, most used first (from this party's own records). */
  splitCounts(keptTrees: number, names: readonly string[]): { column: string; splits: number }[] {
    const counts = new Map<number, number>();
    for (const r of this.records) if (r.tree < keptTrees) counts.set(r.feature, (counts.get(r.feature) ?? 0) + 1);
    return [...counts]
      .map(([feature, splits]) => ({ column: names[feature], splits }))
      .sort((a, b) => b.splits - a.splits || (a.column < b.column ? -1 : 1));
  }

  restoreRecords(records: readonly SplitRecord[]): void {
    this.records.splice(0, this.records.length, ...records);
  }

  /** Row ids must be ascending, in range, and (for a node's own rows) training rows. */
  private checkRows(rows: Int32Array, node: number, training: boolean): void {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r < 0 || r >= this.rowCount || (i > 0 && r <= rows[i - 1]) || (training && !this.train.has(r)))
        throw new PartyError(`node ${node}: its rows must be ascending training row numbers`);
    }
    if (training && rows.length === 0) throw new PartyError(`node ${node}: a node has at least one row`);
  }
}
