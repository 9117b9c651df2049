/**
 * Binary framing for Nest's TCP transport: each packet is a 4-byte big-endian length followed by
 * its MessagePack encoding, so Uint8Array fields (ciphertexts, element lists) cross as raw bytes
 * instead of Nest's default JSON (where a Buffer becomes an array of numbers).
 *
 * Plugged in with `{ transport: Transport.TCP, options: { socketClass: MsgpackSocket } }` on both
 * the server and the client side.
 */
import type { Socket } from 'node:net';
import { decode, Encoder } from '@msgpack/msgpack';
import { TcpSocket } from '@nestjs/microservices';

/** Largest frame accepted from a peer before it is refused (and the connection closed). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export class FrameTooLargeError extends Error {
  constructor(bytes: number, max: number) {
    super(`incoming frame of ${bytes} bytes exceeds the ${max}-byte limit`);
    this.name = 'FrameTooLargeError';
  }
}

export class MsgpackSocket extends TcpSocket {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected: number | null = null;
  // Keeps its grown buffer between frames; each frame is a copy of its own, safe to write asynchronously.
  private readonly encoder = new Encoder({ ignoreUndefined: true });

  constructor(socket: Socket) {
    super(socket);
  }

  protected override handleSend(message: unknown, callback?: (err?: unknown) => void): void {
    const body = this.encoder.encode(message);
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(body.length, 0);
    this.netSocket.cork();
    this.netSocket.write(header);
    this.netSocket.write(body, callback);
    this.netSocket.uncork();
  }

  private refused = false;

  protected override handleData(data: Buffer | string): void {
    if (this.refused) return;
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === null) {
        if (this.buffered < 4) return;
        const head = this.take(4);
        this.expected = head.readUInt32BE(0);
        if (this.expected > MAX_FRAME_BYTES) {
          const bytes = this.expected;
          // Nothing after an oversized header can be framed again: refuse the rest of the stream.
          this.refused = true;
          this.chunks = [];
          this.buffered = 0;
          this.expected = null;
          this.netSocket.emit('error', new FrameTooLargeError(bytes, MAX_FRAME_BYTES).message);
          this.netSocket.destroy();
          return;
        }
      }
      if (this.buffered < this.expected) return;
      const frame = this.take(this.expected);
      this.expected = null;
      this.netSocket.emit('message', decode(frame));
    }
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
