/**
 * ECDH private set intersection between two parties (Meadows 1986; Huberman–Franklin–Hogg 1999),
 * semi-honest.
 *
 * Flow (A and B symmetric; each holds a fresh secret scalar for this job only):
 *   1. each party hashes its IDs to the group with a job-bound domain separation tag,
 *      blinds them with its scalar, shuffles, and sends the list:          A -> B: {a·H(x)}
 *   2. the receiver blinds the list again and returns it in the same order: B -> A: {b·a·H(x)}
 *   3. after both directions each party holds its own doubly blinded IDs (in its own order) and
 *      the peer's doubly blinded set (computed in step 2). Matching values are the intersection.
 *   4. both sort the shared IDs (which both now know) by code units: the same order on both
 *      sides, a function of the intersection alone (so it reveals nothing about either file's
 *      order), and stable across jobs, so a seeded split reproduces.
 *
 * What each party learns: the intersection and the size of the peer's set. What it never sees:
 * any peer ID outside the intersection (it holds only b·a·H(y), which is pseudo-random without b).
 * The coordinator learns the intersection size and a digest of the ordered doubly blinded list
 * (to check both parties agree), never an ID.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { randomInt } from 'node:crypto';
import { PSI_ELEMENT_BYTES, PsiGroupError } from '../../crypto/src/psi-group';
import { PsiEngine, PsiProgress } from '../../crypto/src/psi-engine';

export const PSI_PROTOCOL_VERSION = 'vfl-ecdh-psi-v2';

/** The peer sent something the protocol cannot accept. */
export class PsiProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PsiProtocolError';
  }
}

export interface PsiResult {
  /** Shared IDs in the order both parties agree on. */
  readonly sharedIds: string[];
  /** sha256 over the ordered doubly blinded values: equal on both sides iff they agree. */
  readonly orderDigest: string;
}

/** Domain separation tag: binds every hash to this protocol version and this job. */
export function psiDomainTag(jobId: string): Uint8Array {
  return utf8ToBytes(`${PSI_PROTOCOL_VERSION}|job=${jobId}`);
}

/** One party's side of one PSI run. Create a new session per job: the scalar is never reused. */
export class EcdhPsiSession {
  private readonly scalar: Uint8Array;
  private readonly order: number[];
  private ownDoubleBlinded?: Uint8Array;
  private peerDoubleBlinded?: Uint8Array;

  /**
   * @param ids this party's IDs (already normalised and unique).
   * @param shuffle injectable permutation source, for reproducible tests.
   */
  constructor(
    private readonly engine: PsiEngine,
    private readonly ids: readonly string[],
    private readonly dst: Uint8Array,
    shuffle: (n: number) => number[] = secureShuffle,
  ) {
    if (ids.length === 0) throw new PsiProtocolError('cannot run PSI on an empty ID set');
    this.scalar = engine.randomScalar();
    this.order = shuffle(ids.length);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Step 1: own IDs hashed, blinded and shuffled. */
  async blindOwn(onProgress?: PsiProgress): Promise<Uint8Array> {
    return this.engine.hashAndBlind(
      this.scalar,
      this.order.map((i) => this.ids[i]),
      this.dst,
      onProgress,
    );
  }

  /** Step 2 (as responder): blind the peer's list again, same order. Keeps the result as the peer's set. */
  async blindPeer(peerBlinded: Uint8Array, onProgress?: PsiProgress): Promise<Uint8Array> {
    checkElementList(peerBlinded, 'peer blinded set');
    if (peerBlinded.length === 0) throw new PsiProtocolError('peer sent an empty set');
    try {
      this.peerDoubleBlinded = await this.engine.blind(this.scalar, peerBlinded, onProgress);
    } catch (e) {
      if (e instanceof PsiGroupError) throw new PsiProtocolError(`peer blinded set: ${e.message}`);
      throw e;
    }
    return this.peerDoubleBlinded;
  }

  /** Step 2 (as initiator): the peer's answer to our blinded list. */
  acceptOwnDoubleBlinded(packed: Uint8Array): void {
    checkElementList(packed, 'doubly blinded answer');
    const n = packed.length / PSI_ELEMENT_BYTES;
    if (n !== this.ids.length) throw new PsiProtocolError(`doubly blinded answer has ${n} elements, expected ${this.ids.length}`);
    this.ownDoubleBlinded = Uint8Array.from(packed);
  }

  /** Step 3–4: the intersection in the agreed order. */
  finish(): PsiResult {
    if (!this.ownDoubleBlinded || !this.peerDoubleBlinded) {
      throw new PsiProtocolError('PSI finished before both directions were exchanged');
    }
    const peer = new Set<string>();
    const peerBytes = Buffer.from(this.peerDoubleBlinded.buffer, this.peerDoubleBlinded.byteOffset, this.peerDoubleBlinded.length);
    for (let i = 0; i < peerBytes.length; i += PSI_ELEMENT_BYTES) peer.add(peerBytes.toString('latin1', i, i + PSI_ELEMENT_BYTES));
    const own = Buffer.from(this.ownDoubleBlinded.buffer, this.ownDoubleBlinded.byteOffset, this.ownDoubleBlinded.length);
    const shared: { key: string; id: string }[] = [];
    for (let k = 0; k * PSI_ELEMENT_BYTES < own.length; k++) {
      const key = own.toString('latin1', k * PSI_ELEMENT_BYTES, (k + 1) * PSI_ELEMENT_BYTES);
      if (peer.has(key)) shared.push({ key, id: this.ids[this.order[k]] });
    }
    shared.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const digest = sha256.create();
    for (const s of shared) digest.update(utf8ToBytes(Buffer.from(s.key, 'latin1').toString('hex')));
    this.dispose();
    return { sharedIds: shared.map((s) => s.id), orderDigest: bytesToHex(digest.digest()) };
  }

  /** Wipes the secret scalar; the session is unusable afterwards. Safe to call twice. */
  dispose(): void {
    this.scalar.fill(0);
    this.ownDoubleBlinded = undefined;
    this.peerDoubleBlinded = undefined;
  }
}

function checkElementList(packed: Uint8Array, what: string): void {
  if (!(packed instanceof Uint8Array)) throw new PsiProtocolError(`${what}: expected binary element list`);
  if (packed.length % PSI_ELEMENT_BYTES !== 0) {
    throw new PsiProtocolError(`${what}: length ${packed.length} is not a multiple of ${PSI_ELEMENT_BYTES}`);
  }
}

function secureShuffle(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
