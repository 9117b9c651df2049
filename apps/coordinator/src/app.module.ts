import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { ConfigModule } from './config/config.module';
import { CoordinatorConfig } from './config/coordinator.config';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health.controller';
import { JobsModule } from './jobs/jobs.module';

@Module({})
export class AppModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, AuditModule, JobsModule],
      controllers: [HealthController],
    };
  }
}
