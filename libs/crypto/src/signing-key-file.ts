/**
 * A signing key kept on disk, so a restarted service signs with the same key: the ed25519 seed as
 * 64 hex characters in `<dir>/<name>.key`, created on first use with mode 0600 in a directory of
 * mode 0700. A key file that others may read is refused, not used. Beside it, `<name>.trusted`
 * lists (one public key a line) the keys this service signed with before a rotation, so its own
 * verification still trusts what it signed then.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SigningIdentity } from './signing-identity';

export interface KeyFile {
  readonly identity: SigningIdentity;
  /** The seed, for a launcher that hands it to the service it starts (as VFL_SIGNING_KEY). */
  readonly seedHex: string;
  readonly file: string;
  /** True when the key was created by this call. */
  readonly created: boolean;
}

/**
 * The key in `<dir>/<name>.key`, created when there is none.
 * @throws Error when the file is readable by others or does not hold 64 hex characters.
 */
export function loadOrCreateKeyFile(dir: string, name: string): KeyFile {
  const file = path.join(dir, `${name}.key`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    return { ...readKeyFile(file, name), file, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return { ...readKeyFile(file, name), file, created: false };
}

function readKeyFile(file: string, name: string): { identity: SigningIdentity; seedHex: string } {
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077)
    throw new Error(
      `the signing key file ${file} may be read by other users: make it private (chmod 600) and start again`,
    );
  const seed = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(seed)) throw new Error(`the signing key file ${file} does not hold 64 hex characters`);
  return { identity: SigningIdentity.fromSeedHex(name, seed), seedHex: seed };
}

/** Replaces the key with `next` (written beside it, then renamed over it), and lists the old public key as trusted. */
export function replaceKeyFile(dir: string, name: string, previous: SigningIdentity, nextSeedHex: string): void {
  const file = path.join(dir, `${name}.key`);
  const staged = `${file}.next`;
  fs.writeFileSync(staged, `${nextSeedHex}\n`, { mode: 0o600 });
  fs.appendFileSync(path.join(dir, `${name}.trusted`), `${previous.publicKeyHex}\n`, { mode: 0o600 });
  fs.renameSync(staged, file);
}

/** The public keys this service signed with before its rotations (empty when it never rotated). */
export function previousKeys(dir: string, name: string): string[] {
  try {
    return fs
      .readFileSync(path.join(dir, `${name}.trusted`), 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => /^[0-9a-f]{64}$/.test(l));
  } catch {
    return [];
  }
}
