/**
 * Doubly blinded elements of one PSI run, partitioned by their first byte into 256 buckets so that
 * matching needs only one bucket in memory at a time. Entries stay in memory until the buffered
 * bytes pass a limit; from then on every bucket is appended to its own file in a private
 * directory, removed by `dispose()`. What is spilled is pseudo-random group elements (and row
 * positions), never an ID.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Buckets by the element's first byte: 10M elements give ~40k per bucket to hold in a Set. */
export const PSI_BUCKETS = 256;

export class BlindedSetStore {
  private readonly buffered: Buffer[][];
  private bufferedBytes = 0;
  private dir?: string;

  /**
   * @param entryBytes bytes per entry: the 32-byte element, plus any fixed-size payload after it
   * @param spillAboveBytes buffered bytes above which buckets go to disk
   */
  constructor(
    private readonly entryBytes: number,
    private readonly spillAboveBytes: number,
    private readonly spillRoot: string = os.tmpdir(),
  ) {
    this.buffered = Array.from({ length: PSI_BUCKETS }, () => []);
  }

  /** Appends packed entries (a multiple of entryBytes). */
  add(packed: Uint8Array): void {
    const count = packed.length / this.entryBytes;
    // Group this batch by bucket first, so each bucket gets one contiguous copy.
    const counts = new Uint32Array(PSI_BUCKETS);
    for (let i = 0; i < count; i++) counts[packed[i * this.entryBytes]]++;
    const parts = Array.from(counts, (n) => Buffer.allocUnsafe(n * this.entryBytes));
    const fill = new Uint32Array(PSI_BUCKETS);
    for (let i = 0; i < count; i++) {
      const at = i * this.entryBytes;
      const b = packed[at];
      parts[b].set(packed.subarray(at, at + this.entryBytes), fill[b]++ * this.entryBytes);
    }
    parts.forEach((part, b) => part.length > 0 && this.buffered[b].push(part));
    this.bufferedBytes += packed.length;
    if (this.bufferedBytes > this.spillAboveBytes) this.flush();
  }

  /** Every entry of bucket b (a multiple of entryBytes). */
  bucket(b: number): Buffer {
    const inMemory = Buffer.concat(this.buffered[b]);
    if (!this.dir) return inMemory;
    const file = this.file(b);
    const onDisk = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    return Buffer.concat([onDisk, inMemory]);
  }

  dispose(): void {
    this.buffered.forEach((parts) => parts.splice(0));
    this.bufferedBytes = 0;
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private flush(): void {
    this.dir ??= fs.mkdtempSync(path.join(this.spillRoot, 'vfl-psi-'));
    this.buffered.forEach((parts, b) => {
      if (parts.length === 0) return;
      fs.appendFileSync(this.file(b), Buffer.concat(parts));
      parts.splice(0);
    });
    this.bufferedBytes = 0;
  }

  private file(b: number): string {
    return path.join(this.dir!, `bucket-${b}`);
  }
}
