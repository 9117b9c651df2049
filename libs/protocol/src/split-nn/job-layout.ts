/**
 * What every participant of a split-NN job agrees on before the first batch: who the parties
 * are, each party's input width and bottom output width, the interactive layer's width, and from
 * those the CKKS layouts and the coordinator's release plans. Each party checks its own model
 * against it; the coordinator derives from it alone what it will decrypt and release.
 */
import { bottomOutputWidth, bottomPath, bottomOf, NnArchitecture, validateArchitecture } from '@vfl/ml';
import { RowBlocks, SlotSumPlan } from './layout';

export class SplitNnConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitNnConfigError';
  }
}

export interface SplitNnPartySpec {
  readonly id: string;
  /** Number of feature columns the party trains on. */
  readonly inputWidth: number;
}

export interface SplitNnJobSpec {
  readonly architecture: NnArchitecture;
  readonly label: SplitNnPartySpec;
  readonly features: readonly SplitNnPartySpec[];
}

export interface FeatureLayout {
  readonly id: string;
  readonly inputWidth: number;
  /** d_f: the width of α_f. */
  readonly outputWidth: number;
  /** Enc(α_f) layout. */
  readonly alpha: RowBlocks;
}

export class SplitNnJobLayout {
  readonly architecture: NnArchitecture;
  readonly units: number;
  /** Enc(B·δ) layout (rows of the interactive layer's width). */
  readonly delta: RowBlocks;
  readonly features: readonly FeatureLayout[];
  readonly labelOutputWidth: number;

  /**
   * @throws ArchitectureError for a bad architecture; SplitNnConfigError for parties that do not fit.
   */
  constructor(
    readonly spec: SplitNnJobSpec,
    readonly slots: number,
  ) {
    this.architecture = validateArchitecture(spec.architecture);
    this.units = this.architecture.interactive.units;
    const ids = [spec.label.id, ...spec.features.map((f) => f.id)];
    if (spec.features.length === 0) throw new SplitNnConfigError('a split-NN job needs at least one feature party');
    const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
    if (repeated !== undefined) throw new SplitNnConfigError(`party ${repeated} is listed twice`);
    for (const p of [spec.label, ...spec.features]) {
      if (!Number.isInteger(p.inputWidth) || p.inputWidth < 1)
        throw new SplitNnConfigError(`party ${p.id} has ${p.inputWidth} input columns`);
    }
    for (const party of Object.keys(this.architecture.bottomByParty ?? {})) {
      if (!ids.includes(party)) throw new SplitNnConfigError(`bottomByParty.${party} names no party of the job`);
    }
    this.delta = new RowBlocks(slots, this.units);
    this.labelOutputWidth = bottomOutputWidth(this.architecture, spec.label.id);
    this.features = spec.features.map((f) => {
      const d = bottomOutputWidth(this.architecture, f.id);
      if (d * this.units > slots) {
        const at = `${bottomPath(this.architecture, f.id)}[${bottomOf(this.architecture, f.id).length - 1}].units`;
        throw new SplitNnConfigError(`${at} × interactive.units = ${d * this.units} exceeds the ${slots} CKKS slots`);
      }
      return { id: f.id, inputWidth: f.inputWidth, outputWidth: d, alpha: new RowBlocks(slots, d) };
    });
  }

  feature(id: string): FeatureLayout {
    const f = this.features.find((x) => x.id === id);
    if (!f) throw new SplitNnConfigError(`${id} is not a feature party of this job`);
    return f;
  }

  /** Released to the label party: Σ_f α_f·W_f for the batch, rows × units. */
  forwardPlan(rows: number, level: number): SlotSumPlan {
    return {
      width: rows * this.units,
      parts: this.features.map((f) => ({
        kind: 'rowSums' as const,
        ciphertexts: f.alpha.ciphertextsFor(rows) * this.units,
        level,
        rows,
        stride: f.alpha.stride,
        sumWidth: f.outputWidth,
        units: this.units,
        offset: 0,
      })),
      shares: this.features.map(() => ({ offset: 0, length: rows * this.units })),
    };
  }

  /** Released to feature party f: B·δ·W_fᵀ (rows × d_f), then B·(α_fᵀδ − R_f) (d_f × units). */
  backwardPlan(featureId: string, rows: number, level: number): SlotSumPlan {
    const f = this.feature(featureId);
    const d = f.outputWidth;
    return {
      width: rows * d + d * this.units,
      parts: [
        {
          kind: 'rowSums',
          ciphertexts: this.delta.ciphertextsFor(rows) * d,
          level,
          rows,
          stride: this.delta.stride,
          sumWidth: this.units,
          units: d,
          offset: 0,
        },
        {
          kind: 'columnSums',
          ciphertexts: d,
          level,
          rows,
          stride: this.delta.stride,
          sumWidth: this.units,
          units: d,
          offset: rows * d,
        },
      ],
      shares: [
        { offset: 0, length: rows * d },
        { offset: rows * d, length: d * this.units },
      ],
    };
  }
}
