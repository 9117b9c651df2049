/**
 * The vocabulary between the coordinator and the parties (commands, `<phase>.<verb>`) and between
 * parties (peer envelopes). Everything binary travels as Uint8Array: the transports encode
 * messages with MessagePack, so ciphertexts and element lists cross the wire as raw bytes.
 */
import type { LrHyperparameters } from '../../ml/src/logistic';
import type { NnArchitecture } from '../../ml/src/nn/architecture';
import type { DefenceSpec } from './split-nn/defence';
import type { IdRule } from '../../data/src/id-normalisation';

export type PartyRole = 'label' | 'feature';

/** Coordinator -> party message patterns. */
export const Commands = {
  prepare: 'job.prepare',
  psiExchange: 'psi.exchange',
  psiFinish: 'psi.finish',
  psiProgress: 'psi.progress',
  /** Cardinality mode: the feature party streams its shuffled answers to the label party. */
  psiAnswer: 'psi.answer',
  /** Unbalanced mode: tells each party its side (small or big) and the peer's row count. */
  psiPlan: 'psi.plan',
  heKeys: 'he.keys',
  lrForward: 'lr.forward',
  lrResidual: 'lr.residual',
  lrGradient: 'lr.gradient',
  lrUpdate: 'lr.update',
  lrShareLogits: 'lr.share_logits',
  lrEvaluate: 'lr.evaluate',
  lrBaseline: 'lr.baseline',
  /** Early stopping: keep the current weights as the best so far / go back to them. */
  lrSnapshot: 'lr.snapshot',
  lrRestore: 'lr.restore',
  /** End of an epoch: each party keeps its weights and optimizer state (split NN: its network's whole training state); a resumed job loads them. */
  lrCheckpoint: 'lr.checkpoint',
  lrResume: 'lr.resume',
  /** Saves the party's model where it lives and returns its signed digest for the manifest. */
  lrExport: 'lr.export',
  /** Federated inference with a trained model: load it and score the requested IDs locally. */
  predictPrepare: 'predict.prepare',
  /** Feature party: send its partial logits to the label party. */
  predictShare: 'predict.share',
  /** Label party: combine every party's logits into scores (split NN: hand over the scores nn.predict computed). */
  predictCombine: 'predict.combine',
  /** Split NN, one batch: feature parties' forward; the label party's products; its train step; the feature parties' backward and update. */
  nnForward: 'nn.forward',
  nnProducts: 'nn.products',
  nnTrainStep: 'nn.train_step',
  nnBackward: 'nn.backward',
  nnApply: 'nn.apply',
  /** Split NN evaluation: the label party scores a released batch, then reports metrics of a split. */
  nnPredict: 'nn.predict',
  nnMetrics: 'nn.metrics',
  close: 'job.close',
  health: 'party.health',
} as const;

/** Party -> party message patterns. */
export const PeerTypes = {
  psiBlinded: 'peer.psi.blinded',
  psiAnswers: 'peer.psi.answers',
  psiPositions: 'peer.psi.positions',
  /** Unbalanced mode: the small side's {s·H(x)}, answered with {b·s·H(x)}. */
  psiQuery: 'peer.psi.query',
  /** Unbalanced mode: the big side's shuffled tags of {b·H(y)}. */
  psiTags: 'peer.psi.tags',
  predictLogits: 'peer.predict.logits',
  nnForward: 'peer.nn.forward',
  nnBackward: 'peer.nn.backward',
  lrForward: 'peer.lr.forward',
  lrResidual: 'peer.lr.residual',
  lrLogits: 'peer.lr.logits',
} as const;
export type PeerType = (typeof PeerTypes)[keyof typeof PeerTypes];

export interface RosterEntry {
  readonly partyId: string;
  readonly role: PartyRole;
  /** The party's ed25519 public key (hex): envelopes from it must carry its signature. */
  readonly publicKey: string;
}

export interface DataReference {
  /** Path on the party's own file system, resolved inside its data root. */
  readonly path: string;
  readonly idColumn?: string;
  readonly labelColumn?: string;
}

export interface PrepareCommand {
  readonly jobId: string;
  readonly role: PartyRole;
  readonly data: DataReference;
  readonly roster: readonly RosterEntry[];
  readonly hyperparameters: LrHyperparameters;
  /** How every party normalises its IDs before PSI (the same rules on every side). */
  readonly alignment?: AlignmentSpec;
  /** A split-NN job: the architecture every party builds its part of, and the label party's defence. */
  readonly nn?: { readonly architecture: NnArchitecture; readonly defence?: DefenceSpec };
}

export interface PredictCommand {
  /** The prediction's own id (its envelopes and audit chain). */
  readonly jobId: string;
  /** The training job whose model scores. */
  readonly modelJobId: string;
  readonly roster: readonly RosterEntry[];
  readonly ids: readonly string[];
  /** Where the party reads the rows to score; by default the file it trained on. */
  readonly data?: DataReference;
}

export interface AlignmentSpec {
  readonly idRules: readonly IdRule[];
  /** `cardinality`: the label party learns only how many IDs are shared; nobody learns which. */
  readonly output?: 'intersection' | 'cardinality';
  /**
   * `unbalanced`: the smaller list's party does O(its size) group operations, the bigger one
   * O(both sizes) (docs/protocol.md §1). Default `balanced`.
   */
  readonly mode?: PsiMode;
  /** Unbalanced mode: the party with the small list; by default the one that reports fewer rows. */
  readonly smallParty?: string;
}

export type PsiMode = 'balanced' | 'unbalanced';

/** Unbalanced mode: the coordinator tells each party its side once both have reported their rows. */
export interface PsiPlanCommand {
  readonly jobId: string;
  readonly peer: string;
  readonly side: 'small' | 'big';
  /** The peer's row count from its job.prepare: a stream announcing another size is refused. */
  readonly peerRows: number;
}

export interface PrepareReply {
  readonly rows: number;
  readonly columns: number;
  readonly columnNames: string[];
  readonly contentSha256: string;
  readonly source: string;
  readonly backend: string;
}

/** What a sender reports about a message it sent, for the audit trail. */
export interface MessageReceipt {
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly seq: number;
  readonly digest: string;
  readonly bytes: number;
}

export interface PeerEnvelope {
  readonly jobId: string;
  readonly type: PeerType;
  readonly from: string;
  readonly to: string;
  /** Strictly increasing per (job, sender): a repeated or older seq is a replay. */
  readonly seq: number;
  /** sha256 of `body`. */
  readonly digest: string;
  /** The payload's MessagePack, sealed with AES-256-GCM under the pair's channel key. */
  readonly body: Uint8Array;
  /** The sender's ed25519 signature (hex) over `envelopeSigningText`. */
  readonly signature: string;
}

export { envelopeSigningText, sealContext } from './wire/peer-envelope';

/** The coordinator's name in rosters and audit records. */
export const COORDINATOR_ID = 'coordinator';

export { bytesToF64, digestHex, f64ToBytes, packBody, packCiphertexts, publicBundleBytes, publicBundleDigest, unpackBody, unpackCiphertexts } from './wire/codec';
