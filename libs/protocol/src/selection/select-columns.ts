/**
 * Column selection from what the owners shared: IV per feature (binning) and missing rate
 * (statistics). Rules: drop a column whose missing rate exceeds `maxMissingRate`, or whose IV is
 * under `minIv`; then keep each party's `topKPerParty` highest-IV columns. The output is the list
 * of columns the next step uses. A pure function of its inputs, run by the coordinator.
 */
import { z } from 'zod';

export const selectionSettings = z
  .object({
    /** IV under this is useless (REFERENCES.md: < 0.02). */
    minIv: z.number().min(0).max(100).default(0.02),
    topKPerParty: z
      .number()
      .int()
      .min(1)
      .max(1 << 16)
      .optional(),
    maxMissingRate: z.number().min(0).max(1).default(1),
  })
  .strict();
export type SelectionSettings = z.output<typeof selectionSettings>;
export type SelectionInput = z.input<typeof selectionSettings>;

export interface SelectionCandidate {
  readonly partyId: string;
  readonly column: string;
  readonly index: number;
  readonly iv: number;
  /** From the statistics step, when it ran and shared it. */
  readonly missingRate?: number;
}

export interface SelectedColumn extends SelectionCandidate {
  readonly kept: boolean;
  /** Why a column was dropped. */
  readonly reason?: 'missing-rate' | 'iv' | 'top-k';
}

/** A selection that keeps nothing (of a party, or at all): the next step would have no input. */
export class EmptySelectionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'EmptySelectionError';
  }
}

/**
 * Applies the rules; every candidate comes back, kept or with the reason it was dropped.
 * @throws EmptySelectionError when a party in `parties` keeps no column.
 */
export function selectColumns(
  candidates: readonly SelectionCandidate[],
  settings: SelectionSettings,
  parties: readonly string[],
): SelectedColumn[] {
  const out: SelectedColumn[] = candidates.map((c) =>
    c.missingRate !== undefined && c.missingRate > settings.maxMissingRate
      ? { ...c, kept: false, reason: 'missing-rate' }
      : c.iv < settings.minIv
        ? { ...c, kept: false, reason: 'iv' }
        : { ...c, kept: true },
  );
  for (const party of parties) {
    const mine = out.filter((c) => c.partyId === party);
    if (settings.topKPerParty !== undefined) {
      const ranked = mine.filter((c) => c.kept).sort((a, b) => b.iv - a.iv);
      for (const c of ranked.slice(settings.topKPerParty)) out[out.indexOf(c)] = { ...c, kept: false, reason: 'top-k' };
    }
    if (!out.some((c) => c.partyId === party && c.kept)) {
      const best = mine.reduce<SelectionCandidate | undefined>((b, c) => (!b || c.iv > b.iv ? c : b), undefined);
      throw new EmptySelectionError(
        `selection keeps no column of party ${party}` +
          (best ? `: its highest IV is ${best.iv.toFixed(4)} (column ${best.column}), minIv is ${settings.minIv}` : ''),
      );
    }
  }
  return out;
}
