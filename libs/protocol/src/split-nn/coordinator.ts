/**
 * The coordinator's part of split NN: it holds the job's CKKS secret key, announces what it will
 * decrypt for each batch (from the job layout alone: rows, widths, units), and releases only
 * slot sums of masked values (SlotSumDecryptionService). It never sees an α, a δ, a weight or a
 * gradient unmasked.
 */
import { CkksContext, CkksKeyHolder, CkksPublicBundle } from '@vfl/crypto';
import { SplitNnJobLayout } from './job-layout';
import {
  BatchKey,
  batchKeyString,
  NnBackwardProducts,
  NnBackwardShare,
  NnForwardProducts,
  NnForwardShare,
} from './messages';
import { SlotSumDecryptionService } from './slot-sum-decryption';
import { SplitNnProtocolError } from './feature-party';

export class SplitNnCoordinator {
  readonly service: SlotSumDecryptionService;

  private constructor(
    private readonly ckks: CkksContext,
    private readonly layout: SplitNnJobLayout,
    private readonly keys: CkksKeyHolder,
  ) {
    this.service = new SlotSumDecryptionService(keys);
  }

  /** Generates the job's key pair; no Galois keys: the layout needs no rotation. */
  static create(ckks: CkksContext, layout: SplitNnJobLayout): SplitNnCoordinator {
    return new SplitNnCoordinator(ckks, layout, CkksKeyHolder.generate(ckks, []));
  }

  publicBundle(): CkksPublicBundle {
    return this.keys.publicBundle();
  }

  /** Announces the decryptions of one batch: the forward release, and for training one backward release per feature party. */
  announce(key: BatchKey, rows: number): void {
    const k = batchKeyString(key);
    const level = this.ckks.topLevel - 1;
    this.service.expect(`${k}:forward`, this.layout.forwardPlan(rows, level));
    if (key.phase === 'train') {
      for (const f of this.layout.features)
        this.service.expect(`${k}:backward:${f.id}`, this.layout.backwardPlan(f.id, rows, level));
    }
  }

  /** Step 4: Σ_f α_f·W_f + the label party's masks, released to the label party. */
  releaseForward(key: BatchKey, products: NnForwardProducts, shares: readonly NnForwardShare[]): Float64Array {
    if (shares.length !== this.layout.features.length) {
      throw new SplitNnProtocolError(
        `forward release: expected shares from ${this.layout.features.length} feature parties, got ${shares.length}`,
      );
    }
    this.layout.features.forEach((f, i) => {
      if (shares[i].party !== f.id)
        throw new SplitNnProtocolError(`forward release: share ${i} is from ${shares[i].party}, expected ${f.id}`);
    });
    return this.service.release(
      `${batchKeyString(key)}:forward`,
      products.products,
      shares.map((s) => s.share),
    );
  }

  /** Step 8: B·δ̃·W_fᵀ and B·(α_fᵀδ̃ − R_f), plus the feature party's masks, released to feature party f. */
  releaseBackward(
    key: BatchKey,
    featureId: string,
    products: NnBackwardProducts,
    share: NnBackwardShare,
  ): Float64Array {
    if (share.party !== featureId)
      throw new SplitNnProtocolError(`backward release for ${featureId}: share is for ${share.party}`);
    return this.service.release(
      `${batchKeyString(key)}:backward:${featureId}`,
      [products.g, products.w],
      [share.gShare, share.wShare],
    );
  }

  dispose(): void {
    this.keys.dispose();
  }
}
