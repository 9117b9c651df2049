/**
 * Compiles the optional C addons with the system C compiler against the running Node's headers,
 * into libs/crypto/native/build/ (for the unit tests, which run the TypeScript sources) and
 * dist/libs/crypto/native/build/ (for the compiled services). `npm run build` runs it.
 *   - h2c25519.c: the fast hash to the X25519 group (PSI; psi-native.ts);
 *   - bfv_products.c: SecureBoost's ciphertext × one-hot products (bfv-native.ts).
 *
 * Optional on purpose: without a C compiler or Node's headers it says so and exits 0, and each
 * caller falls back to its library path (libsodium's from_uniform, SEAL's evaluator), which gives
 * the same bytes, slower. The addons need no libraries of their own: SHA-512 comes from the
 * OpenSSL the Node binary exports.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';

export const NATIVE_ADDONS = ['h2c25519', 'bfv_products'] as const;

/** Directories that may hold node_api.h: the running Node's own, then the distributions' usual ones. */
function nodeIncludeDirs(): string[] {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return [path.join(prefix, 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].filter((d) =>
    existsSync(path.join(d, 'node_api.h')),
  );
}

/**
 * Builds every addon into each of `outDirs` (compiled into the first, copied to the others).
 * @returns the built paths, or the reason this machine cannot build them.
 */
export function buildNativeAddons(repoRoot: string, outDirs: string[]): { built: string[] } | { skipped: string } {
  const includes = nodeIncludeDirs();
  if (includes.length === 0) return { skipped: 'no node_api.h found (install the Node headers)' };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { skipped: `${process.platform}/${process.arch}: the addons are written for 64-bit Linux` };
  const cc = process.env.CC ?? 'cc';
  const built: string[] = [];
  for (const dir of outDirs) mkdirSync(dir, { recursive: true });
  for (const name of NATIVE_ADDONS) {
    const first = path.join(outDirs[0], `${name}.node`);
    const args = [
      '-O2', // -O3 unrolls the NTT's runtime-length loops into slower code (measured: 3× on the forward transform)
      '-shared',
      '-fPIC',
      '-Wall',
      '-Wno-deprecated-declarations', // OpenSSL 3 deprecates SHA512_Init & co.; Node still exports them
      `-DNODE_GYP_MODULE_NAME=${name}`,
      ...includes.map((d) => `-I${d}`),
      path.join(repoRoot, 'libs', 'crypto', 'native', `${name}.c`),
      '-o',
      first,
      '-lpthread',
    ];
    try {
      execFileSync(cc, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
      return { skipped: `${cc} failed on ${name}.c: ${stderr || (e as Error).message}` };
    }
    built.push(first);
    for (const dir of outDirs.slice(1)) {
      const target = path.join(dir, `${name}.node`);
      copyFileSync(first, target);
      built.push(target);
    }
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
    console.warn(
      `native addons not built (${result.skipped}); PSI hashes with libsodium and SecureBoost multiplies with SEAL instead`,
    );
}
