/**
 * A pipeline job's steps and settings. Steps run in a fixed order, each feeding the next:
 * statistics → binning → selection → split-lr (on WOE-encoded features) → scorecard. A step whose
 * input another step makes needs that step in the pipeline; the error names both.
 */
import { z } from 'zod';
import { binningSettings } from '../binning/settings';
import { statisticsSettings } from '../statistics/settings';

export const PIPELINE_STEPS = ['statistics', 'binning', 'selection', 'split-lr', 'scorecard'] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/** What each step takes from an earlier one. */
const NEEDS: Record<PipelineStep, readonly PipelineStep[]> = {
  statistics: [],
  binning: [],
  selection: ['binning'],
  'split-lr': ['binning'],
  scorecard: ['binning', 'split-lr'],
};

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

export const scorecardSettings = z
  .object({
    baseScore: finite.default(600),
    /** Non-event odds (good:bad) that score baseScore. */
    baseOdds: finite.pipe(z.number().positive()).default(50),
    /** Points that double the odds. */
    pdo: finite.pipe(z.number().positive()).default(20),
  })
  .strict();
export type ScorecardSettings = z.output<typeof scorecardSettings>;
export type ScorecardInput = z.input<typeof scorecardSettings>;

/** What every party of a pipeline gets at job.prepare. */
export const pipelinePartySettings = z.object({
  steps: z.array(z.enum(PIPELINE_STEPS)).min(1).max(PIPELINE_STEPS.length),
  statistics: statisticsSettings,
  binning: binningSettings,
  scorecard: scorecardSettings,
  /** split-lr's hyperparameters (checked by split LR's own hook). */
  hyperparameters: z.unknown(),
});
export type PipelinePartySettings = z.output<typeof pipelinePartySettings>;

/**
 * The steps, checked: known names, each once, in order, and every input made by an earlier step.
 * @throws RangeError naming the step.
 */
export function checkedSteps(steps: readonly unknown[] | undefined): PipelineStep[] {
  if (!steps || steps.length === 0)
    throw new RangeError(`pipeline: give the steps to run, in order: ${PIPELINE_STEPS.join(', ')}`);
  const out: PipelineStep[] = [];
  for (const [i, step] of steps.entries()) {
    if (typeof step !== 'string' || !(PIPELINE_STEPS as readonly string[]).includes(step))
      throw new RangeError(
        `pipeline[${i}]: unknown step "${String(step).slice(0, 32)}" (steps: ${PIPELINE_STEPS.join(', ')})`,
      );
    const s = step as PipelineStep;
    if (out.includes(s)) throw new RangeError(`pipeline[${i}]: step "${s}" appears twice`);
    const last = out[out.length - 1];
    if (last && PIPELINE_STEPS.indexOf(s) < PIPELINE_STEPS.indexOf(last))
      throw new RangeError(
        `pipeline[${i}]: step "${s}" cannot come after "${last}" (steps run in the order ${PIPELINE_STEPS.join(', ')})`,
      );
    for (const needed of NEEDS[s])
      if (!steps.includes(needed))
        throw new RangeError(
          `pipeline[${i}]: step "${s}" uses the output of step "${needed}", which the pipeline does not run`,
        );
    out.push(s);
  }
  return out;
}
