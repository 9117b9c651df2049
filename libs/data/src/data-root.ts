/**
 * Where a data reference points, on a party's own file system. A reference comes from the
 * coordinator, so it must stay inside the party's data root: the check runs on the real path
 * (every symlink followed), so a link inside the root cannot lead out of it, and a name that
 * merely begins with two dots (`..foo.csv`) is a file like any other.
 */
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { DataValidationError } from './data-validation-error';

/**
 * The real path of `file` (relative to `root`, or absolute), checked to lie inside `root`.
 * A file that does not exist resolves to its path inside the root, for the loader to report.
 *
 * @param root the party's data root; unset, `file` is resolved against the working directory, unchecked
 * @param file the reference as the job names it
 * @throws {DataValidationError} BAD_PATH for a NUL byte, OUTSIDE_DATA_ROOT for a path (or the real
 *   path of a symlink) that leaves the root
 */
export async function resolveDataPath(root: string | undefined, file: string): Promise<string> {
  if (file.includes('\0')) throw new DataValidationError('BAD_PATH', 'data path contains a NUL byte');
  if (!root) return path.resolve(file);
  const realRoot = await realpath(root).catch(() => path.resolve(root));
  const candidate = path.resolve(realRoot, file);
  if (!isInside(realRoot, candidate)) throw outside(file);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return candidate;
    if (code === 'ELOOP') throw new DataValidationError('BAD_PATH', 'data path is a symlink loop');
    throw err;
  }
  if (!isInside(realRoot, real)) throw outside(file);
  return real;
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function outside(file: string): DataValidationError {
  const shown = file.length > 200 ? `${file.slice(0, 200)}…` : file;
  return new DataValidationError(
    'OUTSIDE_DATA_ROOT',
    `data path ${JSON.stringify(shown)} is outside this party's data root`,
  );
}
