import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { DatabaseEndpoint } from './database/database.module';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly db: DatabaseEndpoint,
  ) {}

  @Get()
  async health() {
    await this.ds.query('SELECT 1');
    return { status: 'ok', database: this.db.description };
  }
}
