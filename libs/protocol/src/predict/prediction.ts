/**
 * Federated inference with a trained split-LR model, coordinator side. Each party scores its own
 * rows of the requested IDs with its own saved weights; feature parties send their partial logits
 * to the label party (sealed, signed, as in training) and the label party combines them into
 * scores. A feature party learns only which IDs were requested, never a score. Every step and
 * message is audited under the prediction's own id; no ID and no score goes into the trail.
 */
import type { AuditEventInput } from '@vfl/audit';
import { bytesToF64, digestHex } from '../wire/codec';
import type { Command } from '../wire/command';
import type { CommandResult } from '../wire/party-channel';
import { COORDINATOR_ID, DataReference, RosterEntry } from '../wire/roster';
import type { ModelManifest } from '../model-manifest';
import { attributeFailure, JobPartySpec, PartyCallError, payloadRecord } from '../job/job-types';
import type { PartyChannel } from '../wire/party-channel';
import * as job from '../job/commands';
import { scoreWithSplitNn } from '../split-nn/scoring';
import * as predict from './commands';
import * as sb from '../secureboost/commands';
import { MAX_PREDICTION_IDS } from './commands';

export { MAX_PREDICTION_IDS };

export interface PredictionSpec {
  readonly predictionId: string;
  readonly modelJobId: string;
  /** The training job's parties (roles, pinned keys). */
  readonly parties: readonly Pick<JobPartySpec, 'partyId' | 'role' | 'publicKey'>[];
  /** The manifest of the training job: each party must score with the model it signed. */
  readonly manifest: ModelManifest;
  readonly ids: readonly string[];
  /** Per party, where to read the rows; by default each reads the file it trained on. */
  readonly data?: Readonly<Record<string, DataReference>>;
}

/**
 * One scored ID: `score` is the probability of the positive class (binary), the predicted value
 * (regression; also as `value`), or the probability of the most likely class, which is `class`,
 * with every class's probability in `probabilities` (multiclass).
 */
export interface PredictionRow {
  readonly id: string;
  readonly score: number;
  readonly value?: number;
  readonly class?: number;
  readonly probabilities?: number[];
}

export interface PredictionResult {
  readonly predictionId: string;
  readonly modelJobId: string;
  readonly objective?: 'binary' | 'regression' | 'multiclass';
  readonly scores: PredictionRow[];
}

export class SplitLrPrediction {
  constructor(
    private readonly spec: PredictionSpec,
    private readonly channels: ReadonlyMap<string, PartyChannel>,
    private readonly audit: (event: AuditEventInput) => Promise<unknown>,
  ) {
    if (spec.ids.length === 0 || spec.ids.length > MAX_PREDICTION_IDS)
      throw new RangeError(`a prediction scores 1 to ${MAX_PREDICTION_IDS} IDs, got ${spec.ids.length}`);
    if (spec.parties.filter((p) => p.role === 'label').length !== 1)
      throw new RangeError("a prediction needs the training job's one label party");
  }

  async run(): Promise<PredictionResult> {
    const { predictionId: jobId, modelJobId, ids } = this.spec;
    const parties = this.spec.parties.map((p) => ({ ...p, channel: this.channel(p.partyId) }));
    const label = parties.find((p) => p.role === 'label')!;
    const features = parties.filter((p) => p.role === 'feature');
    try {
      const roster: RosterEntry[] = await Promise.all(
        parties.map(async (p) => {
          const { publicKey } = await this.call(p.channel, job.health, {});
          const signed = this.spec.manifest.parts.find((m) => m.partyId === p.partyId)?.publicKey;
          if ((p.publicKey && p.publicKey !== publicKey) || (signed && signed !== publicKey)) {
            throw new PartyCallError(
              p.partyId,
              job.health.name,
              `presents signing key ${publicKey}, not the key it trained and signed its model with`,
            );
          }
          return { partyId: p.partyId, role: p.role, publicKey };
        }),
      );
      // Recorded as the chain's job.roster, as in training, so the party-log cross-check reads predictions too.
      await this.audit({
        step: 'job.roster',
        sender: COORDINATOR_ID,
        detail: { modelJobId, roster: roster.map((r) => ({ ...r })), ids: ids.length },
      });
      await Promise.all(
        parties.map(async (p) => {
          const reply = await this.call(p.channel, predict.prepare, {
            jobId,
            modelJobId,
            roster,
            ids,
            ...(this.spec.data?.[p.partyId] ? { data: this.spec.data[p.partyId] } : {}),
          });
          const expected = this.spec.manifest.parts.find((m) => m.partyId === p.partyId)?.modelDigest;
          if (reply.modelDigest !== expected)
            throw new PartyCallError(
              p.partyId,
              predict.prepare.name,
              `scores with a model whose digest ${reply.modelDigest} is not the one in job ${modelJobId}'s manifest`,
            );
          await this.audit({
            step: 'predict.prepare',
            sender: p.partyId,
            receiver: COORDINATOR_ID,
            messageDigest: reply.modelDigest,
            byteSize: reply.modelBytes,
            detail: { rows: reply.rows },
          });
        }),
      );
      if (this.spec.manifest.model === 'split-nn') {
        // Through the encrypted interactive layer, as in evaluation (split-nn-predict.ts).
        await scoreWithSplitNn({
          jobId,
          manifest: this.spec.manifest,
          rows: ids.length,
          label: label.channel,
          features: features.map((f) => f.channel),
          call: (c, command, body) => this.call(c, command, body),
          message: (step, from, to, bytes, detail) => this.audit(payloadRecord(step, from, to, bytes, detail)),
          audit: (e) => this.audit(e),
        });
      } else if (this.spec.manifest.model === 'secureboost') {
        // The label party walks the trees, asking each feature party for directions (secureboost/scoring.ts).
        await this.call(label.channel, sb.predictScores, { jobId });
      } else {
        await Promise.all(features.map((f) => this.call(f.channel, predict.share, { jobId })));
      }
      const combined = await this.call(label.channel, predict.combine, { jobId });
      const bytes = combined.scores;
      const scores = bytesToF64(bytes, 'scores');
      const width = combined.classes ?? 1;
      if (scores.length !== ids.length * width)
        throw new PartyCallError(
          label.partyId,
          predict.combine.name,
          `returned ${scores.length} scores for ${ids.length} IDs${width > 1 ? ` of ${width} classes` : ''}`,
        );
      await this.audit({
        step: 'predict.scores',
        sender: label.partyId,
        receiver: COORDINATOR_ID,
        messageDigest: digestHex(bytes),
        byteSize: bytes.length,
        detail: { rows: scores.length },
      });
      return { predictionId: jobId, modelJobId, ...rowsOf(ids, scores, width, this.spec.manifest.objective) };
    } finally {
      await Promise.allSettled(parties.map((p) => p.channel.call(job.close, { jobId, completed: true })));
    }
  }

  private async call<Q, P>(channel: PartyChannel, command: Command<Q, P>, body: Q): Promise<P> {
    let result: CommandResult<P>;
    try {
      result = await channel.call(command, body);
    } catch (e) {
      throw attributeFailure(channel.partyId, command.name, e, this.spec.parties);
    }
    const batch = (body as { batch?: unknown }).batch;
    for (const r of result.messages) {
      await this.audit({
        step: r.type,
        sender: r.from,
        receiver: r.to,
        messageDigest: r.digest,
        byteSize: r.bytes,
        detail: { seq: r.seq, ...(batch !== undefined ? { batch } : {}) },
      });
    }
    return result.reply;
  }

  private channel(partyId: string): PartyChannel {
    const c = this.channels.get(partyId);
    if (!c) throw new RangeError(`party ${partyId} is not known to this coordinator`);
    return c;
  }
}

/** The scored rows as the model's objective has them (see PredictionRow). */
function rowsOf(
  ids: readonly string[],
  scores: Float64Array,
  classes: number,
  objective: ModelManifest['objective'],
): Pick<PredictionResult, 'objective' | 'scores'> {
  if (classes > 1)
    return {
      objective: 'multiclass',
      scores: ids.map((id, k) => {
        const probabilities = Array.from(scores.subarray(k * classes, (k + 1) * classes));
        const best = probabilities.indexOf(Math.max(...probabilities));
        return { id, score: probabilities[best], class: best, probabilities };
      }),
    };
  if (objective === 'regression')
    return { objective, scores: ids.map((id, k) => ({ id, score: scores[k], value: scores[k] })) };
  return { scores: ids.map((id, k) => ({ id, score: scores[k] })) };
}
