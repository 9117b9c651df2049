/**
 * Compiles the optional C addon (libs/crypto/native/h2c25519.c, the fast hash to the X25519 group)
 * with the system C compiler against the running Node's headers, into
 * libs/crypto/native/build/ (for the unit tests, which run the TypeScript sources) and
 * dist/libs/crypto/native/build/ (for the compiled services). `npm run build` runs it.
 *
 * Optional on purpose: without a C compiler or Node's headers it says so and exits 0, and the
 * PSI group falls back to libsodium's from_uniform path, which gives the same bytes, slower.
 * The addon needs no libraries of its own: SHA-512 comes from the OpenSSL the Node binary exports.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';

export const NATIVE_ADDON = 'h2c25519';

/** Directories that may hold node_api.h: the running Node's own, then the distributions' usual ones. */
function nodeIncludeDirs(): string[] {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return [path.join(prefix, 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].filter((d) =>
    existsSync(path.join(d, 'node_api.h')),
  );
}

/**
 * Builds the addon into each of `outDirs` (the first compiled, the others copies).
 * @returns the built paths, or null (with the reason) when this machine cannot build it.
 */
export function buildNativeAddons(repoRoot: string, outDirs: string[]): { built: string[] } | { skipped: string } {
  const source = path.join(repoRoot, 'libs', 'crypto', 'native', `${NATIVE_ADDON}.c`);
  const includes = nodeIncludeDirs();
  if (includes.length === 0) return { skipped: 'no node_api.h found (install the Node headers)' };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { skipped: `${process.platform}/${process.arch}: the addon is written for 64-bit Linux` };
  const cc = process.env.CC ?? 'cc';
  const first = path.join(outDirs[0], `${NATIVE_ADDON}.node`);
  mkdirSync(outDirs[0], { recursive: true });
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-Wall',
    '-Wno-deprecated-declarations', // OpenSSL 3 deprecates SHA512_Init & co.; Node still exports them
    `-DNODE_GYP_MODULE_NAME=${NATIVE_ADDON}`,
    ...includes.map((d) => `-I${d}`),
    source,
    '-o',
    first,
    '-lpthread',
  ];
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return { skipped: `${cc} failed: ${stderr || (e as Error).message}` };
  }
  const built = [first];
  for (const dir of outDirs.slice(1)) {
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, `${NATIVE_ADDON}.node`);
    copyFileSync(first, target);
    built.push(target);
  }
  return { built };
}

if (require.main === module) {
  const repoRoot = path.resolve(__dirname, '..', '..');
  const result = buildNativeAddons(repoRoot, [
    path.join(repoRoot, 'libs', 'crypto', 'native', 'build'),
    path.join(repoRoot, 'dist', 'libs', 'crypto', 'native', 'build'),
  ]);
  if ('skipped' in result)
    console.warn(`native hash-to-group addon not built (${result.skipped}); PSI hashes with libsodium instead`);
}
