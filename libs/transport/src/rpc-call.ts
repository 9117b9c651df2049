/**
 * One request/response over a Nest ClientProxy, with the payload codec applied on both legs, a
 * deadline, and remote errors turned back into Errors with the remote's message.
 */
import { firstValueFrom, timeout } from 'rxjs';
import type { AnyClientProxy } from './transport-options';
import type { PayloadCodec } from './payload-codec';

/** What a service sends back when a handler fails (see RpcErrorFilter in the apps). */
export interface RemoteErrorBody {
  readonly message: string;
  readonly partyId?: string;
  readonly name?: string;
  /** The party where the failure happened, when it was not the replying party (a peer it was sending to). */
  readonly failedAt?: string;
}

export class RemoteCallError extends Error {
  constructor(
    message: string,
    readonly remote?: RemoteErrorBody,
  ) {
    super(message);
    this.name = 'RemoteCallError';
  }
}

export async function rpcCall<T>(
  client: AnyClientProxy,
  codec: PayloadCodec,
  pattern: string,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  const outbound = await codec.outbound(body);
  let reply: unknown;
  try {
    reply = await firstValueFrom(client.send(pattern, outbound).pipe(timeout(timeoutMs)));
  } catch (e) {
    const transport = codec.transportFailure(e);
    if (transport)
      throw new RemoteCallError(transport.message, {
        message: transport.message,
        failedAt: (transport as { failedAt?: string }).failedAt,
      });
    throw toRemoteError(e, pattern, timeoutMs);
  }
  return codec.inbound(reply as T);
}

function toRemoteError(e: unknown, pattern: string, timeoutMs: number): RemoteCallError {
  if (e instanceof Error && e.name === 'TimeoutError')
    return new RemoteCallError(`no answer to ${pattern} within ${timeoutMs} ms`);
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return new RemoteCallError(`unreachable (connection refused)`);
    return new RemoteCallError(e.message);
  }
  if (e && typeof e === 'object' && typeof (e as RemoteErrorBody).message === 'string') {
    return new RemoteCallError((e as RemoteErrorBody).message, e as RemoteErrorBody);
  }
  return new RemoteCallError(String(e));
}
