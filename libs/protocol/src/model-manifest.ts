/**
 * The signed manifest of a trained split model. Each party keeps its own weights; the manifest
 * ties the parts together without holding any of them: per party, its columns, the sha256 of its
 * model file (canonical JSON) and its ed25519 signature over that digest; the coordinator signs
 * the whole. An auditor (or a party at serving time) can check that the parts in use are the
 * parts trained together, and that nobody swapped one.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@vfl/audit';
import { SigningIdentity, verifySignature } from '@vfl/crypto';
import type { PartyRole } from './wire/roster';
import type { NnArchitecture } from '@vfl/ml';

export const MODEL_MANIFEST_VERSION = 'vfl-model-manifest-v1';

export interface ManifestPart {
  readonly partyId: string;
  readonly role: PartyRole;
  /** The party's ed25519 key from the job's roster. */
  readonly publicKey: string;
  readonly columns: readonly string[];
  readonly modelDigest: string;
  readonly signature: string;
}

export interface ModelManifest {
  readonly version: typeof MODEL_MANIFEST_VERSION;
  readonly jobId: string;
  readonly createdAt: string;
  /** The model family (absent in manifests of split-LR jobs made before split NN had one). */
  readonly model?: 'split-lr' | 'split-nn' | 'secureboost' | 'statistics' | 'binning' | 'pipeline';
  /** What the model predicts (absent: a binary label). */
  readonly objective?: 'regression' | 'multiclass';
  /** Split NN: the architecture every part belongs to. */
  readonly architecture?: NnArchitecture;
  readonly parts: readonly ManifestPart[];
  readonly coordinator?: { readonly publicKey: string; readonly signature: string };
}

/** sha256 of a party's model in canonical JSON: what the party signs. */
export function modelDigest(model: unknown): string {
  return createHash('sha256').update(canonicalJson(model), 'utf8').digest('hex');
}

/** Size of a party's model in canonical JSON (what modelDigest hashes). */
export function modelBytes(model: unknown): number {
  return Buffer.byteLength(canonicalJson(model), 'utf8');
}

export function partModelSigningText(jobId: string, partyId: string, digest: string): string {
  return `${MODEL_MANIFEST_VERSION}|job=${jobId}|party=${partyId}|model=${digest}`;
}

function manifestSigningText(m: ModelManifest): string {
  const { coordinator: _omit, ...body } = m;
  return `${MODEL_MANIFEST_VERSION}|${canonicalJson(body)}`;
}

export function signManifest(manifest: ModelManifest, coordinator: SigningIdentity): ModelManifest {
  const unsigned: ModelManifest = { ...manifest, coordinator: undefined };
  return {
    ...manifest,
    coordinator: { publicKey: coordinator.publicKeyHex, signature: coordinator.sign(manifestSigningText(unsigned)) },
  };
}

/**
 * Checks every part's signature against its roster key and the coordinator's over the whole; with
 * `models`, also that each party's model file hashes to its part's digest.
 */
export function verifyModelManifest(
  manifest: ModelManifest,
  options: { coordinatorPublicKey?: string; models?: ReadonlyMap<string, unknown> } = {},
): { valid: boolean; problems: string[] } {
  const problems: string[] = [];
  if (manifest.version !== MODEL_MANIFEST_VERSION)
    problems.push(`unknown manifest version ${String(manifest.version)}`);
  const labels = manifest.parts.filter((p) => p.role === 'label').length;
  if (labels !== 1) problems.push(`the manifest has ${labels} label parts, a model has one`);
  if (manifest.model === 'split-nn' && !manifest.architecture)
    problems.push('a split-nn manifest carries no architecture');
  for (const p of manifest.parts) {
    if (!verifySignature(p.publicKey, partModelSigningText(manifest.jobId, p.partyId, p.modelDigest), p.signature))
      problems.push(`${p.partyId}: signature does not match its model digest`);
    const model = options.models?.get(p.partyId);
    if (options.models && model === undefined) problems.push(`${p.partyId}: no model given to check`);
    if (model !== undefined && modelDigest(model) !== p.modelDigest)
      problems.push(`${p.partyId}: model file does not hash to the manifest's digest`);
    // A split-NN part must be of the manifest's family and architecture (the party signed its file, not the manifest's claim).
    if (model !== undefined && manifest.model === 'split-nn') {
      const m = model as { family?: unknown; architecture?: unknown; role?: unknown };
      if (m.family !== 'split-nn') problems.push(`${p.partyId}: model file is not a split-nn part`);
      else if (canonicalJson(m.architecture) !== canonicalJson(manifest.architecture))
        problems.push(`${p.partyId}: model file has another architecture than the manifest`);
      if (m.role !== p.role)
        problems.push(`${p.partyId}: model file is a ${String(m.role)} party's part, the manifest says ${p.role}`);
    }
  }
  const c = manifest.coordinator;
  if (!c) problems.push('the manifest carries no coordinator signature');
  else {
    if (options.coordinatorPublicKey && options.coordinatorPublicKey !== c.publicKey)
      problems.push('signed by another coordinator key than the one trusted');
    if (!verifySignature(c.publicKey, manifestSigningText({ ...manifest, coordinator: undefined }), c.signature))
      problems.push('coordinator signature does not match the manifest');
  }
  return { valid: problems.length === 0, problems };
}
