/**
 * A job request on its way in: what is wrong with it (every problem, each naming its field), the
 * spec it starts, and, for a retry or resume, the request a stored spec came from.
 */
import { UnprocessableEntityException } from '@nestjs/common';
import { parseIdRules, preprocessingProblems, preprocessingSpec } from '@vfl/data';
import {
  ArchitectureError,
  DEFAULT_LR_HYPERPARAMETERS,
  DEFAULT_VALIDATION_FRACTION,
  validateArchitecture,
} from '@vfl/ml';
import {
  isSecureBoostResult,
  isSplitLrResult,
  isSplitNnResult,
  isTargetResult,
  JobResult,
  JobSpec,
  NO_DEFENCE,
  SecureBoostJobResult,
  SplitLrJobResult,
  SplitNnJobResult,
  TargetJobResult,
  boostingObjectiveProblems,
  impliedBoostingObjective,
  secureBoostSettings,
  validateDefence,
} from '@vfl/protocol';
import { CreateJobDto, isApiModel } from './dto/create-job.dto';
import { woeRequestFields, woeRequestProblems, woeSpecFields } from './woe-request';

/** The smallest working `nn` block: what a split-NN request without one is shown (docs/split-nn.md has every field). */
export const NN_BLOCK_EXAMPLE = {
  architecture: {
    bottom: [{ units: 8, activation: 'relu' }],
    interactive: { units: 4 },
    top: [],
    training: { optimizer: 'adam', learningRate: 0.01, batchSize: 256, epochs: 5, seed: 1 },
  },
  defence: { kind: 'none' },
} as const;

const NN_BLOCK_MISSING =
  `nn: a split-nn job needs an "nn" block with the network's architecture (and optionally its defence), ` +
  `for example "nn": ${JSON.stringify(NN_BLOCK_EXAMPLE)} (every field: docs/split-nn.md)`;

/** Every problem of a request the DTO's decorators cannot see (parties, model settings, alignment). */
export function requestProblems(dto: CreateJobDto, knows: (partyId: string) => boolean): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  dto.parties.forEach((p, i) => {
    if (!knows(p.partyId)) problems.push(`parties.${i}.partyId: unknown party "${p.partyId}"`);
    if (seen.has(p.partyId)) problems.push(`parties.${i}.partyId: "${p.partyId}" is listed twice`);
    seen.add(p.partyId);
    if (p.role === 'label' && !p.data.labelColumn)
      problems.push(`parties.${i}.data.labelColumn: required for the label party`);
    if (p.role === 'feature' && p.data.labelColumn)
      problems.push(`parties.${i}.data.labelColumn: a feature party holds no labels`);
    const { path: _path, idColumn: _id, labelColumn: _label, ...preprocessing } = p.data;
    const parsed = preprocessingSpec.safeParse(preprocessing);
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        problems.push(`parties.${i}.data${issue.path.map((k) => `.${String(k)}`).join('')}: ${issue.message}`);
    else for (const problem of preprocessingProblems(parsed.data)) problems.push(`parties.${i}.data.${problem}`);
  });
  if (dto.model === 'split-nn' && dto.nn?.architecture === undefined) {
    problems.push(NN_BLOCK_MISSING);
  } else if (dto.model === 'split-nn') {
    try {
      validateArchitecture(dto.nn?.architecture);
      validateDefence(dto.nn?.defence ?? NO_DEFENCE);
    } catch (e) {
      problems.push(
        e instanceof ArchitectureError ? `nn.architecture.${e.message}` : `nn.defence: ${(e as Error).message}`,
      );
    }
  } else if (dto.nn !== undefined) {
    problems.push(`nn: only a split-nn job takes an architecture (model is ${dto.model})`);
  }
  if (dto.model === 'secureboost') {
    problems.push(...boostingObjectiveProblems(dto.objective, dto.secureboost));
    const parsed = secureBoostSettings.safeParse(dto.secureboost ?? {});
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        problems.push(`secureboost${issue.path.map((k) => `.${String(k)}`).join('')}: ${issue.message}`);
  } else if (dto.secureboost !== undefined) {
    problems.push(`secureboost: only a secureboost job takes boosting settings (model is ${dto.model})`);
  }
  problems.push(...objectiveProblems(dto));
  problems.push(...woeRequestProblems(dto));
  const labels = dto.parties.filter((p) => p.role === 'label').length;
  if (labels !== 1) problems.push(`parties: exactly one party must have role "label", got ${labels}`);
  const hp = dto.hyperparameters;
  if (hp?.sigmoid === 'cubic' && hp.positiveWeight !== undefined && hp.positiveWeight !== 1) {
    problems.push(
      'hyperparameters.positiveWeight: row weights work with the taylor sigmoid only (the cubic already spends the scale budget)',
    );
  }
  const features = dto.parties.length - labels;
  if (dto.model === 'psi-cardinality' && features !== 1)
    problems.push(`parties: a psi-cardinality check takes exactly one feature party, got ${features}`);
  if (dto.alignment?.mode === 'unbalanced') {
    // Star mode (two or more feature parties) runs balanced only, for now.
    if (features !== 1)
      problems.push(`alignment.mode: unbalanced PSI takes exactly one feature party, got ${features}`);
    if (dto.model === 'psi-cardinality') problems.push('alignment.mode: a psi-cardinality check runs in balanced mode');
  }
  if (dto.alignment?.protocol === 'kkrt') {
    if (features !== 1) problems.push(`alignment.protocol: KKRT PSI takes exactly one feature party, got ${features}`);
    if (dto.model === 'psi-cardinality') problems.push('alignment.protocol: a psi-cardinality check runs on ECDH-PSI');
    if (dto.alignment.mode === 'unbalanced') problems.push('alignment.protocol: unbalanced mode runs on ECDH-PSI');
  }
  const small = dto.alignment?.smallParty;
  if (small !== undefined) {
    if (dto.alignment?.mode !== 'unbalanced')
      problems.push('alignment.smallParty: only for alignment.mode "unbalanced"');
    else if (!dto.parties.some((p) => p.partyId === small))
      problems.push(`alignment.smallParty: "${small}" is not a party of the job`);
  }
  return problems;
}

/** Which models train which objectives, and the settings a non-binary objective cannot take. */
function objectiveProblems(dto: CreateJobDto): string[] {
  const objective = dto.objective ?? 'binary';
  if (objective === 'binary') return [];
  if (dto.model === 'secureboost') {
    if (objective === 'regression') return [];
    return [
      `objective: model secureboost takes objective binary or regression; "${objective}" is for split-lr and split-nn`,
    ];
  }
  if (dto.model !== 'split-lr' && dto.model !== 'split-nn')
    return [
      `objective: model ${dto.model} takes objective binary only; "${objective}" is for split-lr, split-nn and (regression) secureboost`,
    ];
  const problems: string[] = [];
  const hp = dto.hyperparameters;
  if (hp?.positiveWeight !== undefined && hp.positiveWeight !== 1)
    problems.push(
      `hyperparameters.positiveWeight: weights the positive class of a binary label, not a ${objective} target`,
    );
  if (objective === 'regression' && hp?.sigmoid === 'cubic')
    problems.push('hyperparameters.sigmoid: linear regression has no sigmoid (objective regression)');
  return problems;
}

/** The spec a checked request starts, parties' keys pinned as the registry has them. */
export function specOf(
  dto: CreateJobDto,
  id: string,
  pinnedKey: (partyId: string) => string | undefined,
  resume?: JobSpec['resume'],
): JobSpec {
  const nn =
    dto.model === 'split-nn'
      ? {
          architecture: validateArchitecture(dto.nn!.architecture),
          defence: validateDefence(dto.nn!.defence ?? NO_DEFENCE),
        }
      : undefined;
  return {
    jobId: id,
    model: dto.model,
    ...(dto.objective && dto.objective !== 'binary' ? { objective: dto.objective } : {}),
    parties: dto.parties.map((p) => ({
      partyId: p.partyId,
      role: p.role,
      data: { ...p.data },
      publicKey: pinnedKey(p.partyId),
    })),
    // A split-NN job's split, batches and seed come from its architecture; its features are not clipped.
    hyperparameters: nn
      ? {
          ...DEFAULT_LR_HYPERPARAMETERS,
          epochs: nn.architecture.training.epochs,
          batchSize: nn.architecture.training.batchSize,
          seed: nn.architecture.training.seed,
          validationFraction: nn.architecture.training.validationFraction ?? DEFAULT_VALIDATION_FRACTION,
          clipSigma: 0,
        }
      : { ...DEFAULT_LR_HYPERPARAMETERS, ...lrDefaultsFor(dto), ...stripUndefined(dto.hyperparameters ?? {}) },
    ...(nn ? { nn } : {}),
    ...(dto.model === 'split-lr' && !resume ? sizedByRows(dto) : {}),
    // The boosting objective follows the job's (a contradicting one was refused above).
    ...(dto.model === 'secureboost'
      ? {
          secureboost: secureBoostSettings.parse({
            ...dto.secureboost,
            objective: dto.secureboost?.objective ?? impliedBoostingObjective(dto.objective),
          }),
        }
      : {}),
    ...woeSpecFields(dto),
    alignment: {
      idRules: parseIdRules(dto.alignment?.idRules),
      ...(dto.alignment?.mode ? { mode: dto.alignment.mode } : {}),
      ...(dto.alignment?.smallParty ? { smallParty: dto.alignment.smallParty } : {}),
      ...(dto.alignment?.protocol ? { protocol: dto.alignment.protocol } : {}),
    },
    ...(resume ? { resume } : {}),
  };
}

/** The request a job was started with, to start it again (retry, resume). */
export function requestOf(spec: JobSpec): CreateJobDto {
  if (!isApiModel(spec.model))
    throw new UnprocessableEntityException(
      `job of model ${spec.model.slice(0, 32)} cannot be started again through the API`,
    );
  return {
    model: spec.model,
    ...(spec.objective ? { objective: spec.objective } : {}),
    parties: spec.parties.map(({ partyId, role, data }) => ({ partyId, role, data: { ...data } })),
    // A split-NN job's hyperparameters are derived from its architecture again.
    hyperparameters: spec.model === 'split-nn' ? undefined : unsized(spec),
    alignment: { ...spec.alignment, idRules: [...(spec.alignment?.idRules ?? [])] },
    ...(spec.nn ? { nn: spec.nn } : {}),
    ...(spec.secureboost ? { secureboost: { ...spec.secureboost } } : {}),
    ...woeRequestFields(spec),
  };
}

/** Results that carry a model and its manifest (not a PSI count). */
export function hasManifest(
  result: JobResult,
): result is SplitLrJobResult | SplitNnJobResult | SecureBoostJobResult | TargetJobResult {
  return isSplitLrResult(result) || isSplitNnResult(result) || isSecureBoostResult(result) || isTargetResult(result);
}

/** A stored spec's hyperparameters without the placeholders of what is sized from the rows. */
function unsized(spec: JobSpec): CreateJobDto['hyperparameters'] {
  const { batchSize, epochs, ...rest } = spec.hyperparameters;
  return {
    ...rest,
    ...(spec.sizedByRows?.batchSize ? {} : { batchSize }),
    ...(spec.sizedByRows?.epochs ? {} : { epochs }),
  };
}

/** Split LR: what the request leaves out of batch size and epochs is sized from the rows (JobRunner). */
function sizedByRows(dto: CreateJobDto): Pick<JobSpec, 'sizedByRows'> {
  const batchSize = dto.hyperparameters?.batchSize === undefined;
  const epochs = dto.hyperparameters?.epochs === undefined;
  return batchSize || epochs ? { sizedByRows: { batchSize, epochs } } : {};
}

/** Epochs left to the data: early stopping on the validation AUC keeps the best epoch, unless the request says otherwise. */
function lrDefaultsFor(dto: CreateJobDto): Partial<JobSpec['hyperparameters']> {
  return dto.model === 'split-lr' && dto.hyperparameters?.epochs === undefined
    ? { earlyStopping: { metric: 'auc', patience: 3 } }
    : {};
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
