/**
 * A whole federation in one process: real PartyNodes and PartyChannels for a SplitLrJob, with every
 * command, reply and peer envelope MessagePack-encoded exactly as the transports do. With
 * `record`, every encoded message is kept, so tests can inspect each byte that crossed a party
 * boundary. Used by tests and benchmarks; the services use the Nest transports instead.
 */
import { decode, Encoder } from '@msgpack/msgpack';
import { InlinePsiEngine, SigningIdentity } from '@vfl/crypto';
import { initTensorflow, DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import type { PeerEnvelope } from './wire/peer-envelope';
import type { DataReference, PartyRole } from './wire/roster';
import { signedPartyChannel } from './wire/party-channel';
import { PartyAuditLog, PartyNode } from './party/party-node';
import type { PartyHandlerRegistry } from './party/handler-registry';
import type { StoredCheckpoint, StoredPartyModel } from './party/stored-model';
import { isNnPartyModel, NnPartyModel } from './split-nn/model';
import { isSplitLrModel, PartyModel } from './split-lr/model';
import type { AuditEventInput } from '@vfl/audit';
import { JobRunner } from './job/job-runner';
import type { AlignmentSpec, JobProgress, JobSpec } from './job/job-types';
import { isSplitLrResult, jobStrategies, JobResult, partyHandlers } from './registry';
import type { SplitLrJobResult } from './split-lr/strategy';
import type { PartyChannel } from './wire/party-channel';
import { randomUUID } from 'node:crypto';

export interface RecordedMessage {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly bytes: Uint8Array;
}

export interface InProcessFederation {
  readonly nodes: Map<string, PartyNode>;
  /** The coordinator's signing identity: every channel signs its commands with it, every node pins its key. */
  readonly coordinator: SigningIdentity;
  readonly channels: Map<string, PartyChannel>;
  readonly wire: RecordedMessage[];
  /** The last split-LR model each party saved. */
  readonly models: Map<string, PartyModel>;
  /** The last split-NN part each party saved. */
  readonly nnModels: Map<string, NnPartyModel>;
  /** Every saved model, by `${jobId}:${partyId}` (what loadModel reads). */
  readonly saved: Map<string, StoredPartyModel>;
  /** What each party kept for its own operator, by `${jobId}:${partyId}:${name}`. */
  readonly outputs: Map<string, string>;
}

export async function inProcessFederation(
  parties: { partyId: string; role: PartyRole }[],
  dataRoot: string,
  options: {
    record?: boolean;
    partyAudit?: (partyId: string, identity: SigningIdentity) => PartyAuditLog;
    /** Where the parties keep checkpoints; pass one map to several federations to resume across them. */
    checkpoints?: Map<string, StoredCheckpoint>;
    /** Each party's signing key; pass the same to several federations for parties that restart with their key. */
    identities?: Map<string, SigningIdentity>;
    /** Each party's CKKS worker threads (default: one per core; 0: inline). */
    ckksThreads?: number;
    /** The coordinator's signing key; pass the same to several federations for a coordinator that restarts with its key. */
    coordinator?: SigningIdentity;
    /** What the parties serve (default: the built-in models). */
    handlers?: PartyHandlerRegistry;
  } = {},
): Promise<InProcessFederation> {
  const tensorflow = await initTensorflow();
  const wire: RecordedMessage[] = [];
  const recording = options.record !== false;
  const keep = (m: RecordedMessage) => {
    if (recording) wire.push(m);
  };
  // One encoder for every message of this federation: it keeps its grown buffer (see packBody).
  const encoder = new Encoder();
  const encode = (value: unknown) => encoder.encode(value);
  const nodes = new Map<string, PartyNode>();
  const models = new Map<string, PartyModel>();
  const nnModels = new Map<string, NnPartyModel>();
  const saved = new Map<string, StoredPartyModel>();
  const outputs = new Map<string, string>();
  const checkpoints = options.checkpoints ?? new Map<string, StoredCheckpoint>();
  const psiEngine = new InlinePsiEngine();
  const coordinator = options.coordinator ?? SigningIdentity.generate('coordinator');
  const handlers = options.handlers ?? partyHandlers();
  for (const p of parties) {
    const identity = options.identities?.get(p.partyId) ?? SigningIdentity.generate(p.partyId);
    nodes.set(
      p.partyId,
      new PartyNode({
        partyId: p.partyId,
        role: p.role,
        identity,
        coordinatorKey: coordinator.publicKeyHex,
        handlers,
        audit: options.partyAudit?.(p.partyId, identity),
        psiEngine,
        tensorflow,
        dataRoot,
        ckksThreads: options.ckksThreads,
        saveModel: (jobId, model) => {
          if (isNnPartyModel(model)) nnModels.set(p.partyId, model);
          else if (isSplitLrModel(model)) models.set(p.partyId, model);
          saved.set(`${jobId}:${p.partyId}`, model);
        },
        loadModel: (jobId) => saved.get(`${jobId}:${p.partyId}`),
        saveOutput: (jobId, name, text) => void outputs.set(`${jobId}:${p.partyId}:${name}`, text),
        saveCheckpoint: (jobId, checkpoint) =>
          void checkpoints.set(`${jobId}:${p.partyId}`, JSON.parse(JSON.stringify(checkpoint)) as StoredCheckpoint),
        loadCheckpoint: (jobId) => checkpoints.get(`${jobId}:${p.partyId}`),
        peers: {
          async request(to: string, envelope: PeerEnvelope) {
            const bytes = encode(envelope);
            keep({ from: p.partyId, to, kind: envelope.type, bytes });
            const reply = await nodes.get(to)!.handlePeer(decode(bytes));
            if (reply && recording)
              keep({ from: to, to: p.partyId, kind: `${envelope.type}.reply`, bytes: encode(reply) });
            return reply;
          },
        },
      }),
    );
  }
  const channels = new Map<string, PartyChannel>();
  for (const p of parties) {
    channels.set(
      p.partyId,
      signedPartyChannel(p.partyId, coordinator, async (signed) => {
        const request = encode(signed);
        keep({ from: 'coordinator', to: p.partyId, kind: signed.command, bytes: request });
        const reply = encode(await nodes.get(p.partyId)!.handleCommand(decode(request)));
        keep({ from: p.partyId, to: 'coordinator', kind: `${signed.command}.reply`, bytes: reply });
        return decode(reply);
      }),
    );
  }
  return { nodes, coordinator, channels, wire, models, nnModels, saved, outputs };
}

export interface TwoPartyJobOptions {
  readonly dataRoot: string;
  /** The label party's file (inside dataRoot) and its label column. */
  readonly guest: string;
  readonly labelColumn?: string;
  /** The feature party's file (inside dataRoot). */
  readonly host: string;
  readonly hyperparameters: LrHyperparameters;
  readonly record?: boolean;
  readonly audit?: (event: AuditEventInput) => unknown;
  /** Each party's own audit log. */
  readonly partyAudit?: (partyId: string, identity: SigningIdentity) => PartyAuditLog;
  readonly progress?: (progress: JobProgress) => void;
  readonly jobId?: string;
  readonly alignment?: AlignmentSpec;
  /** CKKS worker threads of each party and of the coordinator (default: one per core; 0: inline). */
  readonly ckksThreads?: number;
}

/** A split-LR job between a bank (label) and an e-commerce party (features), in one process. */
export async function runTwoPartyJob(
  o: TwoPartyJobOptions,
): Promise<{ federation: InProcessFederation; result: SplitLrJobResult }> {
  const { federation, result } = await runTwoParty(o, 'split-lr');
  if (!isSplitLrResult(result)) throw new Error('a split-lr job returned no model');
  return { federation, result };
}

/** A cardinality-only PSI job (the bank learns how many IDs it shares), in one process. */
export async function runTwoPartyCardinality(
  o: Omit<TwoPartyJobOptions, 'hyperparameters'>,
): Promise<{ federation: InProcessFederation; result: JobResult }> {
  return runTwoParty({ ...o, hyperparameters: DEFAULT_LR_HYPERPARAMETERS }, 'psi-cardinality');
}

async function runTwoParty(
  o: TwoPartyJobOptions,
  model: JobSpec['model'],
): Promise<{ federation: InProcessFederation; result: JobResult }> {
  return runInProcessJob({
    ...o,
    model,
    label: { partyId: 'bank', file: o.guest, labelColumn: o.labelColumn ?? 'y' },
    features: [{ partyId: 'ecommerce', file: o.host }],
  });
}

export interface InProcessJobOptions extends Omit<TwoPartyJobOptions, 'guest' | 'host' | 'labelColumn'> {
  readonly model?: JobSpec['model'];
  /** Batch size and epochs to size from the rows (as the API does when a request leaves them out). */
  readonly sizedByRows?: JobSpec['sizedByRows'];
  /** What the model predicts (default binary). */
  readonly objective?: JobSpec['objective'];
  /** `split-nn` jobs: the architecture and defence. */
  readonly nn?: JobSpec['nn'];
  /** `secureboost` jobs: the boosting settings. */
  readonly secureboost?: JobSpec['secureboost'];
  /** Where the parties keep checkpoints: one map for several jobs lets one resume from another's. */
  readonly checkpoints?: Map<string, StoredCheckpoint>;
  /** Other models' settings, as the job spec carries them (`statistics`, `binning`, `pipeline`, …). */
  readonly settings?: Partial<Omit<JobSpec, 'jobId' | 'model' | 'parties' | 'hyperparameters'>>;
  readonly label: {
    readonly partyId: string;
    readonly file: string;
    readonly labelColumn: string;
    /** Column choice, missing values and categories (DataReference's preprocessing fields). */
    readonly data?: Omit<DataReference, 'path' | 'labelColumn'>;
  };
  /** One or more feature parties, each with its file inside dataRoot. */
  readonly features: readonly {
    readonly partyId: string;
    readonly file: string;
    readonly data?: Omit<DataReference, 'path' | 'labelColumn'>;
  }[];
}

/** A job between one label party and any number of feature parties, in one process. */
export async function runInProcessJob(
  o: InProcessJobOptions,
): Promise<{ federation: InProcessFederation; result: JobResult }> {
  const federation = await inProcessFederation(
    [
      { partyId: o.label.partyId, role: 'label' },
      ...o.features.map((f) => ({ partyId: f.partyId, role: 'feature' as const })),
    ],
    o.dataRoot,
    { record: o.record, partyAudit: o.partyAudit, ckksThreads: o.ckksThreads, checkpoints: o.checkpoints },
  );
  const result = await new JobRunner(
    {
      jobId: o.jobId ?? randomUUID(),
      model: o.model ?? 'split-lr',
      hyperparameters: o.hyperparameters,
      ...(o.objective ? { objective: o.objective } : {}),
      ...(o.nn ? { nn: o.nn } : {}),
      ...(o.secureboost ? { secureboost: o.secureboost } : {}),
      ...o.settings,
      ...(o.sizedByRows ? { sizedByRows: o.sizedByRows } : {}),
      alignment: o.alignment,
      parties: [
        {
          partyId: o.label.partyId,
          role: 'label',
          data: { ...o.label.data, path: o.label.file, labelColumn: o.label.labelColumn },
        },
        ...o.features.map((f) => ({ partyId: f.partyId, role: 'feature' as const, data: { ...f.data, path: f.file } })),
      ],
    },
    federation.channels,
    {
      audit: async (e) => {
        await o.audit?.(e);
      },
      phase: async () => undefined,
      progress: (p) => o.progress?.(p),
    },
    { strategies: jobStrategies(), ckksThreads: o.ckksThreads },
  ).run();
  return { federation, result };
}
