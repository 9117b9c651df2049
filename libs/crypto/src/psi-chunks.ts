/**
 * How a PSI engine spreads a list over its workers (threads, or worker processes through NATS):
 * in chunks of `chunk` elements, each run on its own and written back at its place, so any
 * engine's output is the same bytes in the same order.
 */
import type { PsiProgress } from './psi-engine';
import { PSI_ELEMENT_BYTES } from './psi-group';

/** Hashes and blinds `ids` a chunk at a time through `run`; progress counts finished IDs. */
export async function hashAndBlindInChunks(
  ids: readonly string[],
  chunk: number,
  run: (slice: readonly string[]) => Promise<Uint8Array>,
  onProgress?: PsiProgress,
): Promise<Uint8Array> {
  const out = new Uint8Array(ids.length * PSI_ELEMENT_BYTES);
  let done = 0;
  const chunks: Promise<void>[] = [];
  for (let start = 0; start < ids.length; start += chunk) {
    const slice = ids.slice(start, start + chunk);
    chunks.push(
      run(slice).then((r) => {
        out.set(r, start * PSI_ELEMENT_BYTES);
        onProgress?.((done += slice.length));
      }),
    );
  }
  await settleAll(chunks);
  return out;
}

/** Blinds packed elements a chunk at a time through `run`, each told its index in the whole list. */
export async function blindInChunks(
  packed: Uint8Array,
  chunk: number,
  firstIndex: number,
  run: (slice: Uint8Array, offset: number) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const out = new Uint8Array(packed.length);
  const step = chunk * PSI_ELEMENT_BYTES;
  const chunks: Promise<void>[] = [];
  for (let start = 0; start < packed.length; start += step)
    chunks.push(
      run(packed.subarray(start, start + step), firstIndex + start / PSI_ELEMENT_BYTES).then((r) => out.set(r, start)),
    );
  await settleAll(chunks);
  return out;
}

/** Waits for every chunk, then throws the first failure (so no chunk is still writing into the output). */
async function settleAll(chunks: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(chunks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
