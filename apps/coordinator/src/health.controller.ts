import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditService } from './audit/audit.service';
import { Public } from './auth/roles.decorator';
import { DatabaseEndpoint } from './database/database.module';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly db: DatabaseEndpoint,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Public()
  async health() {
    await this.ds.query('SELECT 1');
    return { status: 'ok', database: this.db.description, auditSigningKey: this.audit.identity.publicKeyHex };
  }
}
