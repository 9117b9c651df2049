/**
 * The split-NN messages as they travel in MessagePack bodies: Float64Arrays as little-endian
 * bytes, ciphertexts as byte strings, every field checked on arrival so a malformed peer message
 * is refused by name instead of reaching the protocol classes.
 */
import { bytesToF64, f64ToBytes } from '../wire/codec';
import { NnBackwardProducts, NnBackwardShare, NnBackwardToFeature, NnForwardToLabel } from './messages';
import { SplitNnProtocolError } from './feature-party';

type Wire = Record<string, unknown>;

/** The messages' wire forms (what the peer-message and command schemas in commands.ts check). */
export interface ForwardToLabelWire {
  readonly party: string;
  readonly outputWidth: number;
  readonly alpha: Uint8Array[];
  readonly shareMask: Uint8Array;
}
export interface BackwardToFeatureWire {
  readonly delta: Uint8Array[];
  readonly shareMasks: [Uint8Array, Uint8Array];
}
export interface BackwardShareWire {
  readonly party: string;
  readonly gShare: Uint8Array;
  readonly wShare: Uint8Array;
}

function bytesList(v: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(v) || !v.every((c) => c instanceof Uint8Array))
    throw new SplitNnProtocolError(`${what}: expected a list of ciphertexts`);
  return v;
}

function vector(v: unknown, what: string): Float64Array {
  if (!(v instanceof Uint8Array)) throw new SplitNnProtocolError(`${what}: expected float64 bytes`);
  return bytesToF64(v.slice(), what);
}

export const forwardToLabelWire = {
  to: (m: NnForwardToLabel): ForwardToLabelWire => ({
    party: m.party,
    outputWidth: m.outputWidth,
    alpha: m.alpha,
    shareMask: f64ToBytes(m.shareMask),
  }),
  from: (w: Wire): NnForwardToLabel => ({
    party: String(w.party),
    outputWidth: Number(w.outputWidth),
    alpha: bytesList(w.alpha, 'forward share α'),
    shareMask: vector(w.shareMask, 'forward share mask'),
  }),
};

export const backwardToFeatureWire = {
  to: (m: NnBackwardToFeature): BackwardToFeatureWire => ({
    delta: m.delta,
    shareMasks: [f64ToBytes(m.shareMasks[0]), f64ToBytes(m.shareMasks[1])],
  }),
  from: (w: Wire): NnBackwardToFeature => {
    const masks = w.shareMasks;
    if (!Array.isArray(masks) || masks.length !== 2)
      throw new SplitNnProtocolError('backward message: expected two share masks');
    return {
      delta: bytesList(w.delta, 'backward message δ'),
      shareMasks: [vector(masks[0], 'gradient share mask'), vector(masks[1], 'weight share mask')],
    };
  },
};

export const backwardShareWire = {
  to: (m: NnBackwardShare): BackwardShareWire => ({
    party: m.party,
    gShare: f64ToBytes(m.gShare),
    wShare: f64ToBytes(m.wShare),
  }),
  from: (w: Wire): NnBackwardShare => ({
    party: String(w.party),
    gShare: vector(w.gShare, 'gradient share'),
    wShare: vector(w.wShare, 'weight share'),
  }),
};

export const backwardProductsWire = {
  to: (m: NnBackwardProducts): { g: Uint8Array[]; w: Uint8Array[] } => ({ g: m.g, w: m.w }),
  from: (w: Wire): NnBackwardProducts => ({
    g: bytesList(w.g, 'backward products g'),
    w: bytesList(w.w, 'backward products w'),
  }),
};

export function productsFromWire(v: unknown): Uint8Array[][] {
  if (!Array.isArray(v))
    throw new SplitNnProtocolError('forward products: expected one list of ciphertexts per feature party');
  return v.map((p, i) => bytesList(p, `forward products of feature party ${i}`));
}

export { vector as vectorFromWire };
