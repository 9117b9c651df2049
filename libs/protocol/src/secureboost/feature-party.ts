/**
 * A feature party's side of SecureBoost: its binned features, the encrypted bin sums of each node
 * the label party builds (masked before they leave), and its lookup table of the splits it owns.
 * What it learns: the rows of every node it builds or splits (SecureBoost's instance spaces), and
 * its own splits' feature and bin; never a gradient (it holds only Enc(g, h)) nor a label.
 */
import { BfvContext, BfvProductSum } from '@vfl/crypto';
import { BinnedBlock, GbdtParams, partitionRows, SplitCandidate } from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { f64ToBytes } from '../wire/codec';
import { sampledFeatures } from './label-party';
import { nodeLayout, oneHotPolynomial, outputPositions, productGroups, uniformResidues } from './packing';

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
    readonly params: GbdtParams,
    /** 1 + this party's place among the feature parties. */
    readonly block: number,
    readonly own: BinnedBlock,
    /** Training row ids (a node's rows must be among them) and the number of aligned rows. */
    private readonly train: ReadonlySet<number>,
    private readonly rowCount: number,
  ) {}

  /** The masked bin sums of every node the label party sent Enc(g, h) for. */
  histograms(
    tree: number,
    nodes: readonly { node: number; rows: Int32Array; chunks: readonly Uint8Array[] }[],
  ): NodeSums[] {
    const sampled = sampledFeatures(this.params, tree, this.block, this.own.binned.length);
    return nodes.map(({ node, rows, chunks }) => {
      this.checkRows(rows, node, true);
      const layout = nodeLayout(this.bfv.degree, this.params.maxBins, rows.length);
      if (chunks.length !== layout.chunks)
        throw new PartyError(
          `node ${node}: ${chunks.length} chunks for ${rows.length} rows, expected ${layout.chunks}`,
        );
      const prepared = chunks.map((c, i) => BfvProductSum.prepare(this.bfv, c, `node ${node} chunk ${i}`));
      try {
        const out: NodeSums = { node, sums: [], masks: [] };
        for (const group of productGroups(layout, sampled)) {
          const sum = new BfvProductSum(this.bfv);
          try {
            prepared.forEach((cipher, chunk) =>
              sum.add(cipher, oneHotPolynomial(layout, rows, chunk, group, this.own.binned, this.bfv.plainModulus)),
            );
            const mask = uniformResidues(this.bfv.degree, this.bfv.plainModulus);
            out.sums.push(sum.finish(mask));
            out.masks.push(f64ToBytes(Float64Array.from(outputPositions(layout, group.length), (p) => mask[p])));
          } finally {
            sum.dispose();
          }
        }
        return out;
      } finally {
        for (const c of prepared) c.delete();
      }
    });
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
