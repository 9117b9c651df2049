import * as net from 'node:net';
import { encode } from '@msgpack/msgpack';
import { MsgpackSocket, MAX_FRAME_BYTES } from '../src/msgpack-socket';

/** A real loopback server whose connections are wrapped in MsgpackSocket. */
async function server(
  onMessage: (m: unknown, s: MsgpackSocket) => void,
  onError: (e: unknown) => void = () => undefined,
) {
  const open = new Set<net.Socket>();
  const srv = net.createServer((raw) => {
    open.add(raw);
    raw.on('close', () => open.delete(raw));
    const s = new MsgpackSocket(raw);
    s.on('message', (m: unknown) => onMessage(m, s));
    s.on('error', onError);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const close = () => {
    open.forEach((s) => s.destroy());
    return new Promise((r) => srv.close(r));
  };
  return { close, port: (srv.address() as net.AddressInfo).port };
}

function frame(value: unknown): Buffer {
  const body = Buffer.from(encode(value));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe(MsgpackSocket.name, () => {
  it('carries Uint8Array fields as raw bytes and answers over the same framing', async () => {
    const ciphertext = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256);
    const { close, port } = await server((m, s) => s.sendMessage({ echo: m }));
    const client = new MsgpackSocket(new net.Socket());
    client.connect(port, '127.0.0.1');
    const reply = await new Promise<{ echo: { pattern: string; data: { ct: Uint8Array } } }>((resolve) => {
      client.on('message', resolve as (m: unknown) => void);
      client.on('connect', () => client.sendMessage({ pattern: 'lr.forward', data: { ct: ciphertext } }));
    });
    expect(reply.echo.pattern).toBe('lr.forward');
    expect(reply.echo.data.ct).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(reply.echo.data.ct), Buffer.from(ciphertext))).toBe(0);
    client.netSocket.destroy();
    await close();
  });

  it('reassembles frames split across reads and several frames in one read', async () => {
    const received: unknown[] = [];
    const { close, port } = await server((m) => received.push(m));
    const raw = net.connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    const bytes = Buffer.concat([frame({ a: 1 }), frame({ b: [1, 2, 3] }), frame('three')]);
    for (let i = 0; i < bytes.length; i += 3) {
      raw.write(bytes.subarray(i, i + 3));
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([{ a: 1 }, { b: [1, 2, 3] }, 'three']);
    raw.destroy();
    await close();
  });

  it('refuses a frame above the size limit and closes the connection', async () => {
    const errors: unknown[] = [];
    const { close, port } = await server(
      () => undefined,
      (e) => errors.push(e),
    );
    const raw = net.connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1);
    raw.write(head);
    await new Promise((r) => raw.once('close', r));
    expect(String(errors[0])).toContain(`exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    await close();
  });
});
