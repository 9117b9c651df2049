/**
 * The request fields of the credit-scoring models (statistics, binning, pipeline; issue 19): what
 * is wrong with them, each problem naming its field, and the spec fields they become.
 */
import {
  binningSettings,
  checkedSteps,
  JobSpec,
  scorecardSettings,
  selectionSettings,
  statisticsSettings,
} from '@vfl/protocol';
import type { z } from 'zod';
import type { CreateJobDto } from './dto/create-job.dto';

type WoeFields = Pick<CreateJobDto, 'model' | 'statistics' | 'binning' | 'selection' | 'scorecard' | 'pipeline'>;

const FIELDS = [
  { field: 'statistics', schema: statisticsSettings, models: ['statistics', 'pipeline'] },
  { field: 'binning', schema: binningSettings, models: ['binning', 'pipeline'] },
  { field: 'selection', schema: selectionSettings, models: ['pipeline'] },
  { field: 'scorecard', schema: scorecardSettings, models: ['pipeline'] },
] as const;

export function woeRequestProblems(dto: WoeFields): string[] {
  const problems: string[] = [];
  for (const { field, schema, models } of FIELDS) {
    const value = dto[field];
    if (!(models as readonly string[]).includes(dto.model)) {
      if (value !== undefined)
        problems.push(`${field}: only a ${models.join(' or ')} job takes it (model is ${dto.model})`);
      continue;
    }
    const parsed = (schema as z.ZodType).safeParse(value ?? {});
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        problems.push(`${field}${issue.path.map((k) => `.${String(k)}`).join('')}: ${issue.message}`);
  }
  if (dto.model === 'pipeline') {
    try {
      checkedSteps(dto.pipeline);
    } catch (e) {
      problems.push((e as Error).message);
    }
  } else if (dto.pipeline !== undefined) {
    problems.push(`pipeline: only a pipeline job takes steps (model is ${dto.model})`);
  }
  return problems;
}

/** The spec fields of a checked request. */
export function woeSpecFields(dto: WoeFields): Partial<JobSpec> {
  const out: Record<string, unknown> = {};
  for (const { field, schema, models } of FIELDS)
    if ((models as readonly string[]).includes(dto.model)) out[field] = (schema as z.ZodType).parse(dto[field] ?? {});
  if (dto.model === 'pipeline') out.pipeline = checkedSteps(dto.pipeline);
  return out;
}

/** The request fields a stored spec came from. */
export function woeRequestFields(spec: JobSpec): Partial<CreateJobDto> {
  return {
    ...(spec.statistics ? { statistics: { ...spec.statistics } } : {}),
    ...(spec.binning ? { binning: { ...spec.binning } } : {}),
    ...(spec.selection ? { selection: { ...spec.selection } } : {}),
    ...(spec.scorecard ? { scorecard: { ...spec.scorecard } } : {}),
    ...(spec.pipeline ? { pipeline: [...spec.pipeline] } : {}),
  };
}
