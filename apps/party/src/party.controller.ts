/** Thin adapter: signed coordinator commands and peer envelopes, each on one pattern, handed to the PartyNode. */
import { Controller, Logger, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PartyNode, PARTY_COMMAND_PATTERN, PARTY_PEER_PATTERN } from '@vfl/protocol';
import { PayloadCodec } from '@vfl/transport';
import { RpcErrorFilter } from './rpc-error.filter';

/** Job boundaries only: per-batch commands would drown the log. */
const LOGGED = new Set(['job.prepare', 'job.close', 'psi.finish', 'predict.prepare']);

@Controller()
@UseFilters(RpcErrorFilter)
export class PartyController {
  constructor(
    private readonly node: PartyNode,
    private readonly codec: PayloadCodec,
  ) {}

  private readonly logger = new Logger('Party');

  @MessagePattern(PARTY_COMMAND_PATTERN)
  async command(@Payload() raw: unknown) {
    const signed: unknown = await this.codec.inbound(raw ?? {});
    const outcome = await this.node.handleCommand(signed);
    const { command, jobId } = (signed ?? {}) as { command?: unknown; jobId?: unknown };
    if (typeof command === 'string' && LOGGED.has(command)) this.logger.log({ message: command, jobId });
    return this.codec.outbound(outcome);
  }

  @MessagePattern(PARTY_PEER_PATTERN)
  async peer(@Payload() raw: unknown) {
    const envelope: unknown = await this.codec.inbound(raw ?? {});
    return this.codec.outbound({ body: await this.node.handlePeer(envelope) });
  }
}
