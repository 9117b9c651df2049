import type { RecordedMessage } from '../src';

/**
 * Searches recorded traffic for planted values in one pass per kind: float64 values through a
 * set of their 8-byte patterns checked at every byte offset; numbers written as text through the
 * set of number-like tokens in the traffic; short byte runs with Buffer.indexOf.
 */
export class WireScanner {
  constructor(private readonly wire: readonly RecordedMessage[]) {}

  /** Messages containing any of `values` as little-endian float64 bytes at any offset. */
  float64(values: Iterable<number>): { value: number; message: RecordedMessage }[] {
    const wanted = new Map<bigint, number>();
    const cell = new Float64Array(1);
    const bits = new BigUint64Array(cell.buffer);
    for (const v of values) {
      cell[0] = v;
      wanted.set(bits[0], v);
    }
    const hits: { value: number; message: RecordedMessage }[] = [];
    for (const message of this.wire) {
      const b = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      for (let i = 0; i + 8 <= b.length; i++) {
        const hit = wanted.get(b.readBigUInt64LE(i));
        if (hit !== undefined) hits.push({ value: hit, message });
      }
    }
    return hits;
  }

  /** Messages containing any of `texts` as a whole number-like token. */
  tokens(texts: Iterable<string>): { text: string; message: RecordedMessage }[] {
    const wanted = new Set(texts);
    const hits: { text: string; message: RecordedMessage }[] = [];
    for (const message of this.wire) {
      const text = Buffer.from(message.bytes).toString('latin1');
      for (const token of text.match(/[0-9.eE+-]{2,}/g) ?? [])
        if (wanted.has(token)) hits.push({ text: token, message });
    }
    return hits;
  }

  bytes(needle: Uint8Array): RecordedMessage[] {
    return this.wire.filter(
      (m) => Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength).indexOf(Buffer.from(needle)) !== -1,
    );
  }
}
