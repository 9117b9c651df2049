/**
 * Federated inference with a trained split-LR model, coordinator side. Each party scores its own
 * rows of the requested IDs with its own saved weights; feature parties send their partial logits
 * to the label party (sealed, signed, as in training) and the label party combines them into
 * scores. A feature party learns only which IDs were requested, never a score. Every step and
 * message is audited under the prediction's own id; no ID and no score goes into the trail.
 */
import type { AuditEventInput } from '../../audit/src/audit-chain';
import { bytesToF64, Commands, COORDINATOR_ID, digestHex, DataReference, MessageReceipt, RosterEntry } from './messages';
import type { ModelManifest } from './model-manifest';
import { attributeFailure, JobPartySpec, PartyCallError, PartyChannel } from './split-lr-job';
import { scoreWithSplitNn } from './split-nn-predict';

/** Most IDs one prediction request may score. */
export const MAX_PREDICTION_IDS = 100_000;

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

export interface PredictionResult {
  readonly predictionId: string;
  readonly modelJobId: string;
  readonly scores: { readonly id: string; readonly score: number }[];
}

export class SplitLrPrediction {
  constructor(
    private readonly spec: PredictionSpec,
    private readonly channels: ReadonlyMap<string, PartyChannel>,
    private readonly audit: (event: AuditEventInput) => Promise<unknown>,
  ) {
    if (spec.ids.length === 0 || spec.ids.length > MAX_PREDICTION_IDS) throw new RangeError(`a prediction scores 1 to ${MAX_PREDICTION_IDS} IDs, got ${spec.ids.length}`);
    if (spec.parties.filter((p) => p.role === 'label').length !== 1) throw new RangeError('a prediction needs the training job\'s one label party');
  }

  async run(): Promise<PredictionResult> {
    const { predictionId: jobId, modelJobId, ids } = this.spec;
    const parties = this.spec.parties.map((p) => ({ ...p, channel: this.channel(p.partyId) }));
    const label = parties.find((p) => p.role === 'label')!;
    const features = parties.filter((p) => p.role === 'feature');
    try {
      const roster: RosterEntry[] = await Promise.all(
        parties.map(async (p) => {
          const { publicKey } = (await this.call(p.channel, Commands.health, {})) as { publicKey: string };
          const signed = this.spec.manifest.parts.find((m) => m.partyId === p.partyId)?.publicKey;
          if ((p.publicKey && p.publicKey !== publicKey) || (signed && signed !== publicKey)) {
            throw new PartyCallError(p.partyId, Commands.health, `presents signing key ${publicKey}, not the key it trained and signed its model with`);
          }
          return { partyId: p.partyId, role: p.role, publicKey };
        }),
      );
      // Recorded as the chain's job.roster, as in training, so the party-log cross-check reads predictions too.
      await this.audit({ step: 'job.roster', sender: COORDINATOR_ID, detail: { modelJobId, roster: roster.map((r) => ({ ...r })), ids: ids.length } });
      await Promise.all(
        parties.map(async (p) => {
          const reply = await this.call(p.channel, Commands.predictPrepare, { jobId, modelJobId, roster, ids, ...(this.spec.data?.[p.partyId] ? { data: this.spec.data[p.partyId] } : {}) });
          const expected = this.spec.manifest.parts.find((m) => m.partyId === p.partyId)?.modelDigest;
          if (reply.modelDigest !== expected) throw new PartyCallError(p.partyId, Commands.predictPrepare, `scores with a model whose digest ${String(reply.modelDigest)} is not the one in job ${modelJobId}'s manifest`);
          await this.audit({ step: 'predict.prepare', sender: p.partyId, receiver: COORDINATOR_ID, messageDigest: String(reply.modelDigest), byteSize: Number(reply.modelBytes), detail: { rows: reply.rows } });
        }),
      );
      if (this.spec.manifest.model === 'split-nn') {
        // Through the encrypted interactive layer, as in evaluation (split-nn-predict.ts).
        await scoreWithSplitNn({
          jobId, manifest: this.spec.manifest, rows: ids.length, label: label.channel, features: features.map((f) => f.channel),
          call: (c, command, body) => this.call(c, command, body),
          message: (step, from, to, bytes, detail) => this.audit({ step, sender: from, receiver: to, messageDigest: digestHex(bytes), byteSize: bytes.length, detail }),
          audit: (e) => this.audit(e),
        });
      } else {
        await Promise.all(features.map((f) => this.call(f.channel, Commands.predictShare, { jobId })));
      }
      const combined = await this.call(label.channel, Commands.predictCombine, { jobId });
      const bytes = combined.scores as Uint8Array;
      const scores = bytesToF64(bytes, 'scores');
      if (scores.length !== ids.length) throw new PartyCallError(label.partyId, Commands.predictCombine, `returned ${scores.length} scores for ${ids.length} IDs`);
      await this.audit({ step: 'predict.scores', sender: label.partyId, receiver: COORDINATOR_ID, messageDigest: digestHex(bytes), byteSize: bytes.length, detail: { rows: scores.length } });
      return { predictionId: jobId, modelJobId, scores: ids.map((id, k) => ({ id, score: scores[k] })) };
    } finally {
      await Promise.allSettled(parties.map((p) => p.channel.call(Commands.close, { jobId, completed: true })));
    }
  }

  private async call(channel: PartyChannel, command: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let reply: Record<string, unknown>;
    try {
      reply = await channel.call(command, body);
    } catch (e) {
      throw attributeFailure(channel.partyId, command, e, this.spec.parties);
    }
    for (const r of (reply.messages as MessageReceipt[] | undefined) ?? []) {
      await this.audit({ step: r.type, sender: r.from, receiver: r.to, messageDigest: r.digest, byteSize: r.bytes, detail: { seq: r.seq, ...(body.batch !== undefined ? { batch: body.batch } : {}) } });
    }
    return reply;
  }

  private channel(partyId: string): PartyChannel {
    const c = this.channels.get(partyId);
    if (!c) throw new RangeError(`party ${partyId} is not known to this coordinator`);
    return c;
  }
}
