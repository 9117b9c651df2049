/** Alignment by ECDH-PSI: the coordinator's commands and the parties' messages (docs/protocol.md §1). */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, jobRequest, nonNegativeInt } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { partyId } from '../wire/roster';

/** Unbalanced mode: tells each party its side (small or big) and the peer's row count. */
export const plan = defineCommand(
  'psi.plan',
  z.object({ jobId, peer: partyId, side: z.enum(['small', 'big']), peerRows: z.number().int().positive() }),
  empty,
);
export const exchange = defineCommand('psi.exchange', z.object({ jobId, peer: partyId }), empty);
/** Cardinality mode: the feature party streams its shuffled answers to the label party. */
export const answer = defineCommand('psi.answer', jobRequest, empty);
/** Counts only: how far this party's own list and the peer's list are through blinding. */
export const progress = defineCommand(
  'psi.progress',
  jobRequest,
  z
    .object({ ownDone: nonNegativeInt, ownTotal: nonNegativeInt, peerDone: nonNegativeInt, peerTotal: nonNegativeInt })
    .partial(),
);
export const finish = defineCommand(
  'psi.finish',
  jobRequest,
  z.object({
    /** Null for the feature party of a cardinality-only check. */
    size: nonNegativeInt.nullable(),
    trainRows: nonNegativeInt.optional(),
    validationRows: nonNegativeInt.optional(),
    /** Keyed by the pair's channel key: the coordinator compares but cannot test guesses. */
    orderDigest: z.string().optional(),
    /** Star mode, label party: one per feature party. */
    orderDigests: z.record(z.string(), z.string()).optional(),
  }),
);

const chunk = { chunk: nonNegativeInt, chunks: z.number().int().positive(), total: nonNegativeInt };

export const blinded = definePeerMessage('peer.psi.blinded', z.object({ ...chunk, blinded: bytes }));
export const answers = definePeerMessage('peer.psi.answers', z.object({ ...chunk, elements: bytes }));
export const positions = definePeerMessage('peer.psi.positions', z.object({ positions: bytes }));
/** Unbalanced mode: the small side's {s·H(x)}, answered with {b·s·H(x)}. */
export const query = definePeerMessage('peer.psi.query', z.object({ ...chunk, blinded: bytes }));
/** Unbalanced mode: the big side's shuffled tags of {b·H(y)}. */
export const tags = definePeerMessage('peer.psi.tags', z.object({ ...chunk, tags: bytes }));
/** The reply to blinded and query chunks. */
export const doubleBlindedReply = z.object({ doubleBlinded: bytes });

// KKRT16 PSI (alignment.protocol "kkrt", docs/protocol.md §1 "KKRT"): two parties, receiver and sender.
/** Tells each party its KKRT side and the peer's row count. */
export const kkrtPlan = defineCommand(
  'psi.kkrt_plan',
  z.object({ jobId, peer: partyId, side: z.enum(['receiver', 'sender']), peerRows: z.number().int().positive() }),
  empty,
);
const positiveInt = z.number().int().positive();
/** R → S: base-OT point, cuckoo seed and sizes; answered with S's base-OT points and code key. */
export const kkrtHello = definePeerMessage(
  'peer.psi.kkrt.hello',
  z.object({ basePoint: bytes, seed: bytes, bins: positiveInt, items: positiveInt, chunkBins: positiveInt }),
);
export const kkrtResponse = z.object({ points: bytes, codeKey: bytes, items: positiveInt });
/** R → S: one chunk of the extension matrix (64 bytes per bin). */
export const kkrtMatrix = definePeerMessage('peer.psi.kkrt.matrix', z.object({ ...chunk, rows: bytes }));
/** S → R: one chunk of S's shuffled tags (12 bytes each). */
export const kkrtTags = definePeerMessage('peer.psi.kkrt.tags', z.object({ ...chunk, tags: bytes }));
/** R → S: the stream positions of the shared IDs' tags, in the agreed order. */
export const kkrtPositions = definePeerMessage('peer.psi.kkrt.positions', z.object({ positions: bytes }));
