/**
 * A party's handlers for the commands every job shares. Model-specific work goes to the hooks of
 * the job's model (party/party-model.ts): this file knows no model.
 */
import {
  DataValidationError,
  hasPreprocessing,
  loadPartyTable,
  normaliseIds,
  parseIdRules,
  plannedColumns,
  preprocessingProblems,
  IdRule,
} from '@vfl/data';
import {
  binaryMetrics,
  BinaryMetrics,
  delongPairedAuc,
  gainLiftTable,
  GainLiftRow,
  multiclassMetrics,
  oneVsRestProbabilities,
  regressionMetrics,
  rocCurve,
  RocPoint,
  sigmoid,
  TargetScaler,
  trainPlainSplitLr,
  trainPlainSplitLrHeads,
  LrHyperparameters,
  partialLogits,
} from '@vfl/ml';
import { modelBytes, modelDigest, partModelSigningText } from '../model-manifest';
import { publicBundleBytes, publicBundleDigest } from '../wire/codec';
import { COORDINATOR_ID } from '../wire/roster';
import { PartyError } from '../party/party-error';
import { PartyJob } from '../party/party-job';
import { onCommand, onJobCommand, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import { familyOf } from '../party/stored-model';
import { setUpPsi } from '../psi/party-handlers';
import { checkHandler, columnLimit, tableOptions } from './data-check';
import * as job from './commands';
import type { AucUplift } from './commands';
import { curvePoints, finalScores, type Baseline } from './evaluation';

/** Looks up the hooks of a job's model. */
export type HooksOf = (model: string) => PartyModelHooks | undefined;

export function jobHandlers(hooksOf: HooksOf): PartyHandlerGroup {
  const hook = <K extends keyof PartyModelHooks>(j: PartyJob, name: K): NonNullable<PartyModelHooks[K]> => {
    const h = hooksOf(j.model)?.[name];
    if (!h) throw new PartyError(`job ${j.id} (${j.model}) has no ${String(name)} step`);
    return h;
  };
  return {
    commands: [
      checkHandler(hooksOf),

      onCommand(job.health, (_, { node }) => ({
        partyId: node.partyId,
        role: node.role,
        publicKey: node.identity.publicKeyHex,
        jobs: node.jobCount(),
      })),

      onCommand(
        job.prepare,
        async (cmd, { node }) => {
          if (cmd.role !== node.role)
            throw new PartyError(
              `job ${cmd.jobId} asks ${node.partyId} to act as ${cmd.role} party, but it is configured as ${node.role}`,
            );
          node.checkRoster(cmd.roster);
          if (node.isKnown(cmd.jobId)) throw new PartyError(`job ${cmd.jobId} is already known here`);
          const hooks = hooksOf(cmd.model);
          if (!hooks)
            throw new PartyError(`job ${cmd.jobId}: ${node.partyId} does not serve model "${cmd.model.slice(0, 32)}"`);
          // A feature party holds no labels; a label column in its reference is a configuration mistake.
          if (node.role === 'feature' && cmd.data.labelColumn)
            throw new PartyError(`a feature party takes no label column (got "${cmd.data.labelColumn}")`);
          const file = await node.resolveData(cmd.data.path);
          const cardinalityOnly = cmd.alignment.output === 'cardinality';
          let idRules: IdRule[];
          try {
            idRules = parseIdRules(cmd.alignment.idRules);
          } catch (e) {
            throw new PartyError(`job ${cmd.jobId}: ${(e as Error).message}`);
          }
          const j = new PartyJob(cmd.jobId, cmd.model, cmd.role, cmd.roster, { ...cmd.data }, cmd.dataSettings);
          hooks.prepare?.(j, cmd.settings, node);
          j.keepMissing = hooks.missingValues === true;
          const preprocess = hasPreprocessing(cmd.data);
          const specProblems = preprocessingProblems(cmd.data);
          if (specProblems.length) throw new PartyError(`data: ${specProblems.join('; ')}`);
          let table = await loadPartyTable(
            file,
            tableOptions(cmd.data, node.role, hooks, !cardinalityOnly, cmd.dataSettings.batchSize, {
              objective: cmd.dataSettings.objective,
              model: cmd.model,
            }),
          );
          // One-hot and indicator columns are known by count and generic name now; their levels are fitted after PSI.
          const columnNames = preprocess ? plannedColumns(table, cmd.data) : table.featureNames;
          const limit = hooks.miniBatches && !cardinalityOnly ? columnLimit(cmd.dataSettings.batchSize, node.role) : {};
          if (limit.maxFeatureColumns !== undefined && columnNames.length > limit.maxFeatureColumns)
            throw new DataValidationError(
              'TOO_MANY_COLUMNS',
              `${columnNames.length} model input columns after encoding, more than the limit of ${limit.maxFeatureColumns} (${limit.maxFeatureColumnsReason}); lower maxLevels or raise the batch size`,
              { file: table.source },
            );
          if (idRules.length > 0) table = { ...table, ids: normaliseIds(table.ids, idRules, table.source) };
          j.idRules = idRules;
          j.table = table;
          j.contentSha256 = table.contentSha256;
          setUpPsi(j, cmd.alignment, node);
          node.adopt(j);
          return {
            rows: table.ids.length,
            columns: columnNames.length + (cmd.role === 'label' ? 1 : 0),
            columnNames,
            contentSha256: table.contentSha256,
            source: table.source,
            backend: node.tensorflow.description,
            ...(table.classCount ? { classes: table.classCount } : {}),
          };
        },
        {
          outgoing: (cmd, r, node) => [
            {
              step: 'job.prepare',
              sender: node.partyId,
              receiver: COORDINATOR_ID,
              detail: {
                role: node.role,
                rows: r.rows,
                columns: r.columns,
                columnNames: r.columnNames,
                contentSha256: r.contentSha256,
                source: r.source,
                ...(r.classes ? { classes: r.classes } : {}),
                roster: cmd.roster.map((e) => ({ ...e })),
              },
            },
          ],
        },
      ),

      onJobCommand(
        job.heKeys,
        async (cmd, j, { node }) => {
          await hook(j, 'installKeys')(j, cmd.bundle, cmd.widths, node, cmd.heads);
          return {};
        },
        {
          inPrediction: true,
          incoming: (cmd, node) => [
            {
              step: 'he.keys',
              sender: COORDINATOR_ID,
              receiver: node.partyId,
              messageDigest: publicBundleDigest(cmd.bundle),
              byteSize: publicBundleBytes(cmd.bundle),
              detail: { parameterSet: cmd.bundle.parameterSet },
            },
          ],
        },
      ),

      onJobCommand(job.modelExport, async (_, j, { node }) => {
        if (!node.storage.saveModel)
          throw new PartyError(`${node.partyId} has nowhere to keep models (no model directory configured)`);
        const exported = hook(j, 'exportModel')(j, node);
        // What the party fitted on its training rows goes with its part, so prediction reads rows the same way.
        const fitted = j.aligned?.preprocessing;
        const model = fitted ? { ...exported, preprocessing: fitted } : exported;
        await node.storage.saveModel(j.id, model);
        j.exported = true;
        const digest = modelDigest(model);
        const size = modelBytes(model);
        await node.audit(j.id, {
          step: 'model.export',
          sender: node.partyId,
          receiver: COORDINATOR_ID,
          messageDigest: digest,
          byteSize: size,
          detail: { columns: model.columns.length },
        });
        return {
          partyId: node.partyId,
          role: j.role,
          columns: model.columns,
          modelDigest: digest,
          modelBytes: size,
          signature: node.identity.sign(partModelSigningText(j.id, node.partyId, digest)),
        };
      }),

      onJobCommand(job.modelCheckpoint, async (cmd, j, { node }) => {
        if (!node.storage.saveCheckpoint) throw new PartyError(`${node.partyId} has nowhere to keep checkpoints`);
        const checkpoint = hook(j, 'checkpoint')(j, cmd.epoch, cmd.record, node);
        await node.storage.saveCheckpoint(j.id, checkpoint);
        const digest = modelDigest(checkpoint);
        await node.audit(j.id, {
          step: 'model.checkpoint',
          sender: node.partyId,
          receiver: COORDINATOR_ID,
          messageDigest: digest,
          byteSize: modelBytes(checkpoint),
          detail: { epoch: checkpoint.epoch },
        });
        return { checkpointDigest: digest, checkpointBytes: modelBytes(checkpoint) };
      }),

      onJobCommand(job.modelResume, async (cmd, j, { node }) => {
        const resume = hook(j, 'resume');
        const checkpoint = await node.storage.loadCheckpoint?.(cmd.fromJobId);
        if (!checkpoint)
          throw new PartyError(`${node.partyId} holds no checkpoint of job ${cmd.fromJobId.slice(0, 64)}`);
        const problems = [
          familyOf(checkpoint) !== j.model
            ? `it is a ${familyOf(checkpoint)} checkpoint, this is a ${j.model} job`
            : '',
          checkpoint.epoch !== cmd.epoch ? `it is of epoch ${checkpoint.epoch}, not ${cmd.epoch}` : '',
          checkpoint.contentSha256 !== j.contentSha256 ? 'the data file changed since' : '',
          ...(familyOf(checkpoint) === j.model ? (hooksOf(j.model)?.resumeProblems?.(j, checkpoint) ?? []) : []),
        ].filter(Boolean);
        if (problems.length)
          throw new PartyError(
            `cannot resume from job ${cmd.fromJobId}'s checkpoint at ${node.partyId}: ${problems.join('; ')}`,
          );
        const record = resume(j, checkpoint, node) ?? null;
        return { checkpointDigest: modelDigest(checkpoint), record };
      }),

      onJobCommand(job.modelSnapshot, (_, j) => (hook(j, 'snapshot')(j), {})),
      onJobCommand(job.modelRestore, (_, j) => (hook(j, 'restore')(j), {})),

      onJobCommand(job.baseline, (_, j) => {
        if (j.role !== 'label') throw new PartyError(`${job.baseline.name} is a label-party step`);
        return labelOnlyBaseline(j, hook(j, 'baselineHyperparameters')(j));
      }),

      // The coordinator's chain head, kept in this party's own log and vouched for by its signature.
      onCommand(job.countersign, async (cmd, { node }) => {
        if (!node.isKnown(cmd.jobId))
          throw new PartyError(`${node.partyId} took no part in the job it is asked to countersign`);
        await node.audit(cmd.jobId, {
          step: 'audit.countersign',
          sender: COORDINATOR_ID,
          receiver: node.partyId,
          detail: { seq: cmd.seq, head: cmd.head, state: cmd.state },
        });
        await node.signAudit(cmd.jobId);
        return {};
      }),

      // Closing is idempotent: the coordinator closes every party of a failed job, prepared or not.
      onCommand(job.close, async (cmd, { node }) => {
        const known = node.isKnown(cmd.jobId);
        const j = node.forget(cmd.jobId);
        if (known && j) {
          await node.audit(j.id, {
            step: 'job.close',
            sender: COORDINATOR_ID,
            receiver: node.partyId,
            detail: { completed: cmd.completed, modelSaved: j.exported },
          });
          await node.closeAudit(j.id);
        }
        return {};
      }),
    ],
  };
}

type BaselineValidation = BinaryMetrics & { rocCurve?: RocPoint[]; gainLift?: GainLiftRow[] };

/**
 * The label party's model on its own features only: what federation is compared against. Its
 * validation split also gets the ROC curve and gain/lift table (the same aggregates the federated
 * model's evaluation releases), so the uplift can be drawn, not only stated; with the federated
 * model's final validation scores at hand, the uplift and its DeLong interval too. A regression or
 * multiclass job's baseline is the same linear model of its objective, with the target's metrics.
 */
function labelOnlyBaseline(
  j: PartyJob,
  hp: LrHyperparameters,
): { train: BinaryMetrics; validation: BaselineValidation; uplift?: AucUplift } | Baseline {
  const a = j.requireAligned();
  const objective = j.settings.objective ?? 'binary';
  const options = { interceptIndex: a.columns - 1, split: a.split };
  if (objective === 'regression') {
    // The same linear model as the federation's: squared loss on targets standardised on the training rows.
    const scaler = TargetScaler.fit(a.targets!, a.split.train);
    const { weights } = trainPlainSplitLr(a.matrix, a.columns, scaler.scale(a.targets!), { ...hp, objective }, options);
    const metrics = (rows: Int32Array) =>
      regressionMetrics(
        scaler.unscale(partialLogits(a.matrix, a.columns, weights, rows)),
        Float64Array.from(rows, (r) => a.targets![r]),
      );
    return { train: metrics(a.split.train), validation: metrics(a.split.validation) };
  }
  if (objective === 'multiclass') {
    const { weights } = trainPlainSplitLrHeads(a.matrix, a.columns, a.targets!, a.classCount!, hp, options);
    const metrics = (rows: Int32Array) =>
      multiclassMetrics(
        oneVsRestProbabilities(weights.map((w) => partialLogits(a.matrix, a.columns, w, rows))),
        Float64Array.from(rows, (r) => a.targets![r]),
        a.classCount!,
      );
    return { train: metrics(a.split.train), validation: metrics(a.split.validation) };
  }
  const labels = a.labels!;
  const { weights } = trainPlainSplitLr(a.matrix, a.columns, labels, hp, {
    interceptIndex: a.columns - 1,
    split: a.split,
  });
  const scores = (rows: Int32Array) => partialLogits(a.matrix, a.columns, weights, rows).map(sigmoid);
  const labelsOf = (rows: Int32Array) => Uint8Array.from(rows, (r) => labels[r]);
  const validationScores = scores(a.split.validation);
  const validationLabels = labelsOf(a.split.validation);
  const curves =
    validationScores.length >= 10
      ? {
          rocCurve: rocCurve(validationScores, validationLabels, curvePoints(validationScores.length)),
          gainLift: gainLiftTable(validationScores, validationLabels, 10),
        }
      : {};
  const result = {
    train: binaryMetrics(scores(a.split.train), labelsOf(a.split.train)),
    validation: { ...binaryMetrics(validationScores, validationLabels), ...curves },
  };
  const federated = finalScores(j, 'validation');
  let positives = 0;
  for (const y of validationLabels) positives += y;
  if (!federated || positives < 2 || validationLabels.length - positives < 2) return result;
  const d = delongPairedAuc(federated, validationScores, validationLabels);
  return {
    ...result,
    uplift: {
      difference: d.difference,
      standardError: d.standardError,
      low: d.interval95[0],
      high: d.interval95[1],
      pValue: d.pValue,
    },
  };
}
