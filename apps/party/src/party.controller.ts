/** Thin adapter: each message pattern hands its payload to the PartyNode. */
import { Controller, Logger, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Commands, PeerEnvelope, PeerTypes } from '../../../libs/protocol/src/messages';
import { PartyNode } from '../../../libs/protocol/src/party-node';
import { PayloadCodec } from '../../../libs/transport/src/payload-codec';
import { RpcErrorFilter } from './rpc-error.filter';

type Body = Record<string, unknown>;

@Controller()
@UseFilters(RpcErrorFilter)
export class PartyController {
  constructor(
    private readonly node: PartyNode,
    private readonly codec: PayloadCodec,
  ) {}

  private readonly logger = new Logger('Party');

  private async command(pattern: string, body: Body): Promise<Body> {
    const reply = await this.node.handleCommand(pattern, await this.codec.inbound(body ?? {}));
    // Job boundaries only: per-batch commands would drown the log.
    if (pattern === Commands.prepare || pattern === Commands.close || pattern === Commands.psiFinish) {
      this.logger.log({ message: pattern, jobId: body?.jobId, ...(pattern === Commands.psiFinish ? { intersection: reply.size } : {}) });
    }
    return this.codec.outbound(reply);
  }

  @MessagePattern(Commands.health) health(@Payload() b: Body) { return this.command(Commands.health, b); }
  @MessagePattern(Commands.prepare) prepare(@Payload() b: Body) { return this.command(Commands.prepare, b); }
  @MessagePattern(Commands.psiExchange) psiExchange(@Payload() b: Body) { return this.command(Commands.psiExchange, b); }
  @MessagePattern(Commands.psiFinish) psiFinish(@Payload() b: Body) { return this.command(Commands.psiFinish, b); }
  @MessagePattern(Commands.psiProgress) psiProgress(@Payload() b: Body) { return this.command(Commands.psiProgress, b); }
  @MessagePattern(Commands.psiAnswer) psiAnswer(@Payload() b: Body) { return this.command(Commands.psiAnswer, b); }
  @MessagePattern(Commands.psiPlan) psiPlan(@Payload() b: Body) { return this.command(Commands.psiPlan, b); }
  @MessagePattern(Commands.heKeys) heKeys(@Payload() b: Body) { return this.command(Commands.heKeys, b); }
  @MessagePattern(Commands.lrForward) lrForward(@Payload() b: Body) { return this.command(Commands.lrForward, b); }
  @MessagePattern(Commands.lrResidual) lrResidual(@Payload() b: Body) { return this.command(Commands.lrResidual, b); }
  @MessagePattern(Commands.lrGradient) lrGradient(@Payload() b: Body) { return this.command(Commands.lrGradient, b); }
  @MessagePattern(Commands.lrUpdate) lrUpdate(@Payload() b: Body) { return this.command(Commands.lrUpdate, b); }
  @MessagePattern(Commands.lrShareLogits) lrShareLogits(@Payload() b: Body) { return this.command(Commands.lrShareLogits, b); }
  @MessagePattern(Commands.lrEvaluate) lrEvaluate(@Payload() b: Body) { return this.command(Commands.lrEvaluate, b); }
  @MessagePattern(Commands.lrBaseline) lrBaseline(@Payload() b: Body) { return this.command(Commands.lrBaseline, b); }
  @MessagePattern(Commands.lrSnapshot) lrSnapshot(@Payload() b: Body) { return this.command(Commands.lrSnapshot, b); }
  @MessagePattern(Commands.lrRestore) lrRestore(@Payload() b: Body) { return this.command(Commands.lrRestore, b); }
  @MessagePattern(Commands.lrCheckpoint) lrCheckpoint(@Payload() b: Body) { return this.command(Commands.lrCheckpoint, b); }
  @MessagePattern(Commands.lrResume) lrResume(@Payload() b: Body) { return this.command(Commands.lrResume, b); }
  @MessagePattern(Commands.lrExport) lrExport(@Payload() b: Body) { return this.command(Commands.lrExport, b); }
  @MessagePattern(Commands.predictPrepare) predictPrepare(@Payload() b: Body) { return this.command(Commands.predictPrepare, b); }
  @MessagePattern(Commands.predictShare) predictShare(@Payload() b: Body) { return this.command(Commands.predictShare, b); }
  @MessagePattern(Commands.predictCombine) predictCombine(@Payload() b: Body) { return this.command(Commands.predictCombine, b); }
  @MessagePattern(Commands.nnForward) nnForward(@Payload() b: Body) { return this.command(Commands.nnForward, b); }
  @MessagePattern(Commands.nnProducts) nnProducts(@Payload() b: Body) { return this.command(Commands.nnProducts, b); }
  @MessagePattern(Commands.nnTrainStep) nnTrainStep(@Payload() b: Body) { return this.command(Commands.nnTrainStep, b); }
  @MessagePattern(Commands.nnBackward) nnBackward(@Payload() b: Body) { return this.command(Commands.nnBackward, b); }
  @MessagePattern(Commands.nnApply) nnApply(@Payload() b: Body) { return this.command(Commands.nnApply, b); }
  @MessagePattern(Commands.nnPredict) nnPredict(@Payload() b: Body) { return this.command(Commands.nnPredict, b); }
  @MessagePattern(Commands.nnMetrics) nnMetrics(@Payload() b: Body) { return this.command(Commands.nnMetrics, b); }
  @MessagePattern(Commands.close) close(@Payload() b: Body) { return this.command(Commands.close, b); }

  @MessagePattern(PeerTypes.psiBlinded) psiBlinded(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.psiBlinded, e); }
  @MessagePattern(PeerTypes.psiAnswers) psiAnswers(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.psiAnswers, e); }
  @MessagePattern(PeerTypes.psiPositions) psiPositions(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.psiPositions, e); }
  @MessagePattern(PeerTypes.psiQuery) psiQuery(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.psiQuery, e); }
  @MessagePattern(PeerTypes.psiTags) psiTags(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.psiTags, e); }
  @MessagePattern(PeerTypes.predictLogits) predictLogits(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.predictLogits, e); }
  @MessagePattern(PeerTypes.nnForward) nnForwardShare(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.nnForward, e); }
  @MessagePattern(PeerTypes.nnBackward) nnBackwardShare(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.nnBackward, e); }
  @MessagePattern(PeerTypes.lrForward) lrForwardShare(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.lrForward, e); }
  @MessagePattern(PeerTypes.lrResidual) lrResidualShare(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.lrResidual, e); }
  @MessagePattern(PeerTypes.lrLogits) lrLogits(@Payload() e: PeerEnvelope) { return this.peer(PeerTypes.lrLogits, e); }

  private async peer(pattern: string, envelope: PeerEnvelope): Promise<{ body: Uint8Array | null }> {
    const inbound = await this.codec.inbound(envelope);
    if (inbound.type !== pattern) throw new Error(`envelope of type ${inbound.type} sent to ${pattern}`);
    return this.codec.outbound({ body: await this.node.handlePeer(inbound) });
  }
}
