/** Who takes part in a job, and where each party's data is: shared by every command that names them. */
import { z } from 'zod';
import { preprocessingFields } from '@vfl/data';

export const partyRole = z.enum(['label', 'feature']);
export type PartyRole = z.output<typeof partyRole>;

/** The coordinator's name in rosters and audit records. */
export const COORDINATOR_ID = 'coordinator';

export const partyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, _ or -');

export const rosterEntry = z.object({
  partyId,
  role: partyRole,
  /** The party's ed25519 public key (hex): envelopes from it must carry its signature. */
  publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex characters'),
});
export type RosterEntry = z.output<typeof rosterEntry>;
export const roster = z.array(rosterEntry).min(2).max(8);

export const dataReference = z.object({
  /** Path on the party's own file system, resolved inside its data root. */
  path: z.string().min(1).max(4096),
  idColumn: z.string().min(1).max(256).optional(),
  labelColumn: z.string().min(1).max(256).optional(),
  /** The party's own column choice, missing values and categories (libs/data preprocessing/spec.ts). */
  ...preprocessingFields,
});
export type DataReference = z.output<typeof dataReference>;
