/**
 * The binning model's commands and peer message (docs/protocol.md §6):
 *   label party:          bin.labels   (encrypts y of the training rows: peer.bin.labels to each feature party)
 *   every feature party:  bin.sums     (returns masked Enc(per-bin events), one per product group)
 *   coordinator:          decrypts each once; bin.release hands the masked output coefficients back to the owner
 *   every party:          bin.tables   (WOE and IV per bin and feature: only what the job shares)
 */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, jobRequest, nonNegativeInt } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';

const ciphertexts = z.array(bytes).max(1 << 16);

export const encryptLabels = defineCommand('bin.labels', jobRequest, z.object({ chunks: nonNegativeInt }));
export const labelShare = definePeerMessage('peer.bin.labels', z.object({ chunks: ciphertexts }));
export const maskedSums = defineCommand('bin.sums', jobRequest, z.object({ sums: ciphertexts }));
/** The decrypted sums' output coefficients (u64, still masked), one entry per product group. */
export const release = defineCommand('bin.release', z.object({ jobId, released: ciphertexts }), empty);

/** One feature as its owner shares it: IV, and with `share: woe` the WOE and IV of each bin (value bins, then missing). */
export const sharedFeature = z
  .object({
    column: z.string().max(256),
    index: nonNegativeInt,
    bins: nonNegativeInt,
    iv: z.number(),
    woe: z.array(z.number()).max(256).optional(),
    binIv: z.array(z.number()).max(256).optional(),
  })
  .strict();
export type SharedFeature = z.output<typeof sharedFeature>;

export const tables = defineCommand(
  'bin.tables',
  jobRequest,
  z.object({ features: z.array(sharedFeature).max(1 << 16) }),
);
