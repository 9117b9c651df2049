/**
 * The models this platform serves, in one place: each model folder's party handlers and
 * coordinator strategy, with the groups every job uses (job, psi, predict). A new model is a
 * folder and a line in each list here; a test can serve an extra one without touching either,
 * with `partyHandlers([...BUILT_IN_GROUPS, its group])` and `jobStrategies([its strategy])`.
 */
import { jobHandlers } from './job/party-handlers';
import type { JobStrategy } from './job/strategy';
import { PartyHandlerRegistry } from './party/handler-registry';
import type { PartyHandlerGroup } from './party/party-model';
import { predictHandlers } from './predict/party-handlers';
import { PSI_CARDINALITY, PsiCardinalityResult, psiCardinalityStrategy } from './psi/cardinality-strategy';
import { kkrtHandlers } from './psi/kkrt-party';
import { psiHandlers } from './psi/party-handlers';
import { splitLrHandlers } from './split-lr/party-handlers';
import { SplitLrJobResult, splitLrStrategy } from './split-lr/strategy';
import { secureBoostHandlers } from './secureboost/party-handlers';
import { SecureBoostJobResult, SecureBoostRegressionResult, secureBoostStrategy } from './secureboost/strategy';
import { splitNnHandlers } from './split-nn/party-handlers';
import { binningHandlers } from './binning/party-handlers';
import { BinningJobResult, binningStrategy } from './binning/strategy';
import { pipelineHandlers } from './pipeline/party-handlers';
import { PipelineJobResult, pipelineStrategy } from './pipeline/strategy';
import { statisticsHandlers } from './statistics/party-handlers';
import { StatisticsJobResult, statisticsStrategy } from './statistics/strategy';
import { SplitNnJobResult, splitNnStrategy } from './split-nn/strategy';
import type { TargetJobResult } from './job/target-result';

/** A PSI feasibility check: alignment only, the label party counts (no model steps at the parties). */
const psiCardinalityHandlers: PartyHandlerGroup = { model: PSI_CARDINALITY, hooks: {}, commands: [] };

export const BUILT_IN_GROUPS: readonly PartyHandlerGroup[] = [
  psiHandlers,
  kkrtHandlers,
  predictHandlers,
  psiCardinalityHandlers,
  splitLrHandlers,
  splitNnHandlers,
  secureBoostHandlers,
  statisticsHandlers,
  binningHandlers,
  pipelineHandlers,
];

/** A party's registry: the shared job commands (whose model steps go to each model's hooks) and `groups`. */
export function partyHandlers(groups: readonly PartyHandlerGroup[] = BUILT_IN_GROUPS): PartyHandlerRegistry {
  const registry: PartyHandlerRegistry = new PartyHandlerRegistry([
    jobHandlers((model) => registry.hooks(model)),
    ...groups,
  ]);
  return registry;
}

/** What a built-in job returns. */
export type JobResult =
  | SplitLrJobResult
  | PsiCardinalityResult
  | SplitNnJobResult
  | SecureBoostJobResult
  | StatisticsJobResult
  | BinningJobResult
  | PipelineJobResult
  | TargetJobResult
  | SecureBoostRegressionResult;

export function isSplitLrResult(result: JobResult): result is SplitLrJobResult {
  return !('model' in result);
}

export function isSplitNnResult(result: JobResult): result is SplitNnJobResult {
  return 'model' in result && result.model === 'split-nn' && !('objective' in result);
}

/** A split-LR, split-NN or SecureBoost model of a continuous target, or K classes (job/target-result.ts). */
export function isTargetResult(result: JobResult): result is TargetJobResult {
  return 'objective' in result && (result.objective === 'regression' || result.objective === 'multiclass');
}

/** A binary SecureBoost model (a regression one is a target result: isSecureBoostRegressionResult). */
export function isSecureBoostResult(result: JobResult): result is SecureBoostJobResult {
  return 'model' in result && result.model === 'secureboost' && !('objective' in result);
}

export function isSecureBoostRegressionResult(result: JobResult): result is SecureBoostRegressionResult {
  return 'model' in result && result.model === 'secureboost' && 'objective' in result;
}

export function isStatisticsResult(result: JobResult): result is StatisticsJobResult {
  return 'model' in result && result.model === 'statistics';
}

export function isBinningResult(result: JobResult): result is BinningJobResult {
  return 'model' in result && result.model === 'binning';
}

export function isPipelineResult(result: JobResult): result is PipelineJobResult {
  return 'model' in result && result.model === 'pipeline';
}

export const BUILT_IN_STRATEGIES: readonly JobStrategy<JobResult>[] = [
  splitLrStrategy,
  splitNnStrategy,
  psiCardinalityStrategy,
  secureBoostStrategy,
  statisticsStrategy,
  binningStrategy,
  pipelineStrategy,
];

/** The coordinator's strategies by model: the built-in ones and `extra`. */
export function jobStrategies<R = JobResult>(
  extra: readonly JobStrategy<R>[] = [],
): Map<string, JobStrategy<JobResult | R>> {
  const all: JobStrategy<JobResult | R>[] = [...BUILT_IN_STRATEGIES, ...extra];
  const map = new Map<string, JobStrategy<JobResult | R>>();
  for (const s of all) {
    if (map.has(s.model)) throw new RangeError(`model ${s.model} has two strategies`);
    map.set(s.model, s);
  }
  return map;
}
