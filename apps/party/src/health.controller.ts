/** HTTP liveness and readiness for a party (served when PARTY_HTTP_PORT is set). */
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Commands } from '../../../libs/protocol/src/messages';
import { PartyNode } from '../../../libs/protocol/src/party-node';
import { PartyAudit } from './party-audit';
import { PartyConfig } from './party.config';

@Controller()
export class PartyHealthController {
  constructor(
    private readonly node: PartyNode,
    private readonly config: PartyConfig,
    private readonly audit: PartyAudit,
  ) {}

  /** The process is up and its protocol engine answers. */
  @Get('health')
  async health() {
    const { messages: _messages, ...status } = await this.node.handleCommand(Commands.health, {});
    return { status: 'ok', transport: this.config.transport, ...status };
  }

  /** Ready for jobs: its data root (when configured) can be read and its audit database answers. */
  @Get('ready')
  async ready() {
    const problems = [...(await this.node.readinessProblems()), ...(await this.audit.problems())];
    if (problems.length) throw new ServiceUnavailableException({ status: 'not ready', problems });
    return { status: 'ready' };
  }
}
