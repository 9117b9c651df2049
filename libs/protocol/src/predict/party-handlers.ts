/**
 * A party's side of prediction: predict.prepare loads this party's saved part of `modelJobId`,
 * reads the requested IDs' rows (from the training file unless told otherwise), refuses a column
 * set that differs from training, and readies its share of the scoring. The label party reads no labels.
 */
import { applyPreprocessing, loadPartyTable, normaliseIds, predictionLoadOptions, type PartyTable } from '@vfl/data';
import { oneVsRestProbabilities, sigmoid, Standardizer, TargetScaler } from '@vfl/ml';
import { modelBytes, modelDigest } from '../model-manifest';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob } from '../party/party-job';
import { onCommand, onJobCommand, onPeer, PartyHandlerGroup } from '../party/party-model';
import type { StoredPartyModel } from '../party/stored-model';
import { isNnPartyModel, NnPartyModel } from '../split-nn/model';
import { nnPrediction, SPLIT_NN, useSavedNnModel } from '../split-nn/party-handlers';
import { isSplitLrModel, PartyModel } from '../split-lr/model';
import { SCORES, SCORING, SECUREBOOST } from '../secureboost/party-handlers';
import { PIPELINE } from '../pipeline/party-handlers';
import { isScorecardModel, pointsCsv, scorecardPoints } from '../pipeline/scoring';
import { SPLIT_LR } from '../split-lr/party-handlers';
import { bytesToF64, digestHex, f64ToBytes } from '../wire/codec';
import { COORDINATOR_ID } from '../wire/roster';
import * as predict from './commands';

/** Split LR: this party's partial logits for the requested IDs, in request order. */
const PARTIAL = new JobSlot<Float64Array>('prediction', 'no prepared prediction');
/** Split LR, label party: what its saved model predicts (a 0/1 label, a value, K classes) and how to unscale a value. */
const OUTPUT = new JobSlot<Pick<PartyModel, 'objective' | 'target'> & { heads: number }>('prediction output');
const logitsKey = (from: string) => mailKey<Float64Array>('predict', from);

/** Settings nobody trains with: a prediction job only scores. */
const SCORING_ONLY = { validationFraction: 0, seed: 0, clipSigma: 0, batchSize: 1 };

export const predictHandlers: PartyHandlerGroup = {
  commands: [
    onCommand(
      predict.prepare,
      async (cmd, { node }) => {
        node.checkRoster(cmd.roster);
        if (node.isKnown(cmd.jobId)) throw new PartyError(`prediction ${cmd.jobId} is already known here`);
        const model = await node.storage.loadModel?.(cmd.modelJobId);
        if (!model) throw new PartyError(`${node.partyId} holds no model of job ${cmd.modelJobId.slice(0, 64)}`);
        if (model.role !== node.role)
          throw new PartyError(
            `the model of job ${model.jobId} is a ${model.role} party's, this party is ${node.role}`,
          );
        const data = cmd.data ?? model.data;
        const file = await node.resolveData(data.path);
        const nn = isNnPartyModel(model);
        // Trees take empty cells as missing values, as in training.
        const boost = model.family === SECUREBOOST;
        // A scorecard bins values as read, missing ones in their own bin; it reads its kept columns only.
        const card = isScorecardModel(model);
        // A split-LR label party's columns end with its intercept.
        const trained = card
          ? model.woeColumns!
          : isSplitLrModel(model) && model.role === 'label'
            ? model.columns.slice(0, -1)
            : model.columns;
        // Read with the shared CSV reader (BOM, quoting); the training label column may be there and is
        // ignored, any other difference from training is refused, named.
        const all = await readRows(file, data.idColumn ?? 'id', model, boost || card);
        const present = all.featureNames.filter((c) => c !== model.data.labelColumn);
        const missing = trained.filter((c) => !present.includes(c));
        const extra = card ? [] : present.filter((c) => !trained.includes(c));
        if (missing.length || extra.length) {
          throw new PartyError(
            `${all.source} has other columns than the model of job ${model.jobId} was trained on` +
              (missing.length ? `; missing: ${missing.join(', ')}` : '') +
              (extra.length ? `; not in training: ${extra.join(', ')}` : ''),
          );
        }
        const ids = model.idRules.length ? normaliseIds(all.ids, [...model.idRules], all.source) : all.ids;
        const wanted = model.idRules.length ? normaliseIds(cmd.ids, [...model.idRules], 'the request') : cmd.ids;
        const index = new Map(ids.map((id, i) => [id, i]));
        // The label party must hold every requested ID (the count only, never which). A feature party
        // scores an ID it does not hold as an average customer (standardised zeros: contribution 0)
        // and says nothing, so no answer reveals who is its customer.
        const unknown = model.role === 'label' ? wanted.filter((id) => !index.has(id)).length : 0;
        if (unknown > 0)
          throw new PartyError(`${unknown} of the ${wanted.length} requested IDs are not in the label party's data`);
        const columnOf = trained.map((c) => all.featureNames.indexOf(c));
        const { means, deviations, clipSigma } = model.standardization;
        const bound = clipSigma > 0 ? clipSigma : Infinity;
        const stride = all.featureNames.length;
        const standardized = (row: number, j: number) =>
          Math.max(-bound, Math.min(bound, (all.features[row * stride + columnOf[j]] - means[j]) / deviations[j]));
        const rows = wanted.map((id) => index.get(id));
        const family = nn ? SPLIT_NN : boost ? SECUREBOOST : card ? PIPELINE : SPLIT_LR;
        const job = new PartyJob(cmd.jobId, family, node.role, cmd.roster, model.data, SCORING_ONLY);
        job.purpose = 'prediction';
        if (nn) prepareNnRows(job, model, rows, standardized, node.role === 'label');
        else if (boost) {
          // Trees compare values as read; a row this party does not hold goes where missing values go.
          const width = trained.length;
          const values = new Float64Array(rows.length * width).fill(NaN);
          rows.forEach((row, k) => {
            if (row !== undefined)
              for (let j = 0; j < width; j++) values[k * width + j] = all.features[row * stride + columnOf[j]];
          });
          job.set(SCORING, { model, rows: { count: rows.length, values, columns: width } });
        } else if (card) {
          const points = scorecardPoints(model, rows, (row, j) => all.features[row * stride + columnOf[j]]);
          job.set(PARTIAL, points.totals);
          // This party's operator gets its own features' points per applicant; only totals travel.
          await node.storage.saveOutput?.(cmd.jobId, 'points.csv', pointsCsv(model, wanted, rows, points));
        } else if (isSplitLrModel(model)) {
          job.set(PARTIAL, partialLogits(model, rows, standardized));
          job.set(OUTPUT, { objective: model.objective, target: model.target, heads: model.heads?.length ?? 1 });
        } else throw new PartyError(`the saved model of job ${model.jobId} is of no family this party scores`);
        node.adopt(job);
        return {
          rows: wanted.length,
          ...(nn ? { columns: model.columns.length } : {}),
          modelDigest: modelDigest(model),
          modelBytes: modelBytes(model),
        };
      },
      {
        outgoing: (cmd, reply, node) => [
          {
            step: 'predict.prepare',
            sender: node.partyId,
            receiver: COORDINATOR_ID,
            messageDigest: reply.modelDigest,
            byteSize: reply.modelBytes,
            detail: { modelJobId: cmd.modelJobId, rows: reply.rows, roster: cmd.roster.map((e) => ({ ...e })) },
          },
        ],
      },
    ),

    onJobCommand(
      predict.share,
      async (_, job, call) => {
        if (job.role !== 'feature')
          throw new PartyError(`${predict.share.name} is for a feature party with a prepared prediction`);
        await call.send(job, job.labelParty(), predict.partialLogits, { values: f64ToBytes(job.get(PARTIAL)) });
        return {};
      },
      { inPrediction: true },
    ),

    onJobCommand(
      predict.combine,
      (_, job) => {
        if (job.role !== 'label' || job.purpose !== 'prediction')
          throw new PartyError(`${predict.combine.name} is for the label party with a prepared prediction`);
        if (job.model === SPLIT_NN) {
          const { scores, classes } = nnPrediction(job, job.rows('validation').length);
          return { scores: f64ToBytes(scores), ...(classes ? { classes } : {}) };
        }
        if (job.model === SECUREBOOST) return { scores: f64ToBytes(job.get(SCORES)) };
        // A scorecard's score is the sum of points (a higher score, a lower risk), not a probability.
        const points = job.model === PIPELINE;
        const scores = Float64Array.from(job.get(PARTIAL));
        for (const f of job.featureParties()) {
          const partial = job.take(logitsKey(f.partyId));
          if (partial.length !== scores.length)
            throw new PartyError(`${f.partyId} scored ${partial.length} values, expected ${scores.length}`);
          partial.forEach((v, i) => (scores[i] += v));
        }
        const output = job.find(OUTPUT);
        if (output?.objective === 'regression') {
          const { mean, deviation } = output.target!;
          return { scores: f64ToBytes(TargetScaler.of(mean, deviation).unscale(scores)) };
        }
        if (output?.objective === 'multiclass') {
          const rows = scores.length / output.heads;
          const logits = Array.from({ length: output.heads }, (_, k) => scores.subarray(k * rows, (k + 1) * rows));
          return { scores: f64ToBytes(oneVsRestProbabilities(logits)), classes: output.heads };
        }
        return { scores: f64ToBytes(points ? scores : scores.map(sigmoid)) };
      },
      {
        inPrediction: true,
        outgoing: (_, reply, node) => [
          {
            step: 'predict.scores',
            sender: node.partyId,
            receiver: COORDINATOR_ID,
            messageDigest: digestHex(reply.scores),
            byteSize: reply.scores.length,
            detail: { rows: reply.scores.length / 8 },
          },
        ],
      },
    ),
  ],
  peers: [
    onPeer(predict.partialLogits, (body, job, from) => {
      if (job.role !== 'label' || !job.find(PARTIAL))
        throw new PartyError(`${predict.partialLogits.type} is only for the label party of a prediction`);
      job.put(logitsKey(from), bytesToF64(body.values, 'partial logits'));
      return null;
    }),
  ],
};

/** The file's rows as the model's inputs: through the fills and encodings fitted in training, when there were any. */
async function readRows(
  file: string,
  idColumn: string,
  model: StoredPartyModel,
  /** Empty cells are missing values (trees, scorecards), not errors. */
  allowMissing: boolean,
): Promise<PartyTable> {
  const fitted = model.preprocessing;
  if (!fitted) return loadPartyTable(file, { idColumn, allowMissing });
  const read = await loadPartyTable(file, { idColumn, ...predictionLoadOptions(fitted, allowMissing) });
  return { ...read, featureNames: [...fitted.outputColumns], features: applyPreprocessing(read, fitted) };
}

/**
 * Split LR: this party's partial logits of the requested rows (a row it lacks contributes its
 * intercept only); a multiclass model's heads one after the other.
 */
function partialLogits(
  model: PartyModel,
  rows: (number | undefined)[],
  standardized: (row: number, column: number) => number,
): Float64Array {
  const columns = model.columns.length;
  const width = model.role === 'label' ? columns - 1 : columns;
  const heads = model.heads ?? [model.weights];
  const partial = new Float64Array(rows.length * heads.length);
  heads.forEach((weights, h) =>
    rows.forEach((row, k) => {
      let s = model.role === 'label' ? weights[columns - 1] : 0;
      if (row !== undefined) for (let j = 0; j < width; j++) s += standardized(row, j) * weights[j];
      partial[h * rows.length + k] = s;
    }),
  );
  return partial;
}

/**
 * Split NN: the requested rows, standardised as in training, become the job's only (validation)
 * split, scored with the saved part once he.keys arrives, by the evaluation steps. A row the
 * feature party lacks is all zeros after standardisation: its average customer, as in split LR.
 */
function prepareNnRows(
  job: PartyJob,
  model: NnPartyModel,
  rows: (number | undefined)[],
  standardized: (row: number, column: number) => number,
  isLabel: boolean,
): void {
  const width = model.columns.length;
  const values = new Float64Array(rows.length * width);
  rows.forEach((row, k) => {
    if (row !== undefined) for (let j = 0; j < width; j++) values[k * width + j] = standardized(row, j);
  });
  useSavedNnModel(job, model);
  job.aligned = {
    rows: rows.length,
    matrix: values,
    // The network reads standardised values only.
    raw: values,
    standardized: values,
    columns: width,
    columnNames: [...model.columns],
    // Scoring reads no labels; the label party's network object takes a placeholder column.
    labels: isLabel ? new Uint8Array(rows.length) : undefined,
    split: { train: new Int32Array(0), validation: Int32Array.from(rows, (_, k) => k) },
    standardizer: Standardizer.of(model.standardization.means, model.standardization.deviations),
  };
}
