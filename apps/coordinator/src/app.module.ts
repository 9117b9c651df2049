import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { CoordinatorConfig } from './config/coordinator.config';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health.controller';
import { JobsModule } from './jobs/jobs.module';
import { PartiesModule } from './parties/parties.module';

@Module({})
export class AppModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        AuthModule,
        AuditModule,
        JobsModule,
        PartiesModule,
        DashboardModule,
      ],
      controllers: [HealthController],
    };
  }
}
