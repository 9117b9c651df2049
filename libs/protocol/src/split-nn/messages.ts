/**
 * The split-NN messages of one batch, as plain typed objects (ciphertexts as serialized bytes,
 * plaintext vectors as Float64Array) so a later slice can carry them in MessagePack envelopes.
 * Shapes are for a batch of B rows, feature party f with bottom width d_f, interactive units h.
 */

/** Identifies one batch of one phase; the coordinator announces each key before its decryptions. */
export interface BatchKey {
  readonly phase: 'train' | 'eval';
  readonly epoch: number;
  readonly batch: number;
}

export function batchKeyString(k: BatchKey): string {
  return `${k.phase}:${k.epoch}:${k.batch}`;
}

/** 1. feature f → label: Enc(α_f) in RowBlocks(d_f), and the mask of its plaintext share (B × h). */
export interface NnForwardToLabel {
  readonly party: string;
  /** d_f as the sender's model has it; refused when it differs from the job config. */
  readonly outputWidth: number;
  readonly alpha: Uint8Array[];
  readonly shareMask: Float64Array;
}

/** 2. feature f → coordinator: α_f·N_f + m_f (B × h), masked by m_f. */
export interface NnForwardShare {
  readonly party: string;
  readonly share: Float64Array;
}

/** 3. label → coordinator: per feature party (job order), Enc(α_f ⊙ V_f[:, j] + masks), ⌈B/R_f⌉·h ciphertexts. */
export interface NnForwardProducts {
  readonly products: Uint8Array[][];
}

/** 5. label → feature f: Enc(B·δ̃) in RowBlocks(h), and the masks of its plaintext shares. */
export interface NnBackwardToFeature {
  readonly delta: Uint8Array[];
  /** Masks of gShare (B × d_f) and wShare (d_f × h). */
  readonly shareMasks: readonly [Float64Array, Float64Array];
}

/** 6. label → coordinator: B·δ̃·V_fᵀ + m (B × d_f) and −B·R_f + m' (d_f × h). */
export interface NnBackwardShare {
  readonly party: string;
  readonly gShare: Float64Array;
  readonly wShare: Float64Array;
}

/** 7. feature f → coordinator: Enc(B·δ̃ ⊙ N_f[k, :] + masks) per chunk and k; Σ_chunks Enc(B·δ̃ ⊙ α_f[:, k] + masks) per k. */
export interface NnBackwardProducts {
  readonly g: Uint8Array[];
  readonly w: Uint8Array[];
}

/** Bytes of a message's ciphertexts and vectors (what crosses a link, before envelopes). */
export function messageBytes(message: unknown): number {
  if (message instanceof Uint8Array || message instanceof Float64Array) return message.byteLength;
  if (Array.isArray(message)) return message.reduce((s: number, m) => s + messageBytes(m), 0);
  if (message && typeof message === 'object')
    return Object.values(message).reduce((s: number, m) => s + messageBytes(m), 0);
  return 0;
}
