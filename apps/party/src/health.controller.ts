/** HTTP liveness and readiness for a party (served when PARTY_HTTP_PORT is set). */
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { PartyNode } from '@vfl/protocol';
import { SigningIdentity } from '@vfl/crypto';
import { PartyAudit } from './party-audit';
import { PartyConfig } from './party.config';

@Controller()
export class PartyHealthController {
  constructor(
    private readonly node: PartyNode,
    private readonly config: PartyConfig,
    private readonly audit: PartyAudit,
    private readonly identity: SigningIdentity,
  ) {}

  /** The process is up. Open to anyone, so it says who the party is and nothing about its data or jobs. */
  @Get('health')
  health() {
    return {
      status: 'ok',
      transport: this.config.transport,
      partyId: this.config.partyId,
      role: this.config.role,
      publicKey: this.identity.publicKeyHex,
    };
  }

  /** Ready for jobs: its data root (when configured) can be read and its audit database answers. */
  @Get('ready')
  async ready() {
    const problems = [...(await this.node.readinessProblems()), ...(await this.audit.problems())];
    if (problems.length) throw new ServiceUnavailableException({ status: 'not ready', problems });
    return { status: 'ready' };
  }
}
