import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditService } from './audit/audit.service';
import { Public } from './auth/roles.decorator';
import { DatabaseEndpoint } from './database/database.module';
import { PartyHealth } from './parties/party-health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly db: DatabaseEndpoint,
    private readonly audit: AuditService,
    private readonly partyHealth: PartyHealth,
  ) {}

  @Get()
  @Public()
  @ApiOkResponse({
    description:
      '{ status: "ok" | "degraded" (a registered party is unreachable), database, auditSigningKey, parties: { <id>: { reachable, latencyMs, role, jobs, error, checkedAt } } }; party probes are time-boxed and cached for 2 s',
  })
  async health() {
    const [, parties] = await Promise.all([this.ds.query('SELECT 1'), this.partyHealth.reachability()]);
    const degraded = Object.values(parties).some((p) => !p.reachable || p.error);
    return {
      status: degraded ? 'degraded' : 'ok',
      database: this.db.description,
      auditSigningKey: this.audit.identity.publicKeyHex,
      parties,
    };
  }
}
