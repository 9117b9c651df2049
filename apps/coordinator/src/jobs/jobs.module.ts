import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity } from '@vfl/audit';
import { AuditController } from '../audit/audit.controller';
import { AuditModule } from '../audit/audit.module';
import { PartiesModule } from '../parties/parties.module';
import { JobListCache, JobListInvalidator } from './job-list-cache';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

@Module({
  imports: [TypeOrmModule.forFeature([JobEntity]), AuditModule, PartiesModule],
  controllers: [JobsController, AuditController],
  providers: [JobsService, { provide: JobListCache, useValue: new JobListCache() }, JobListInvalidator],
})
export class JobsModule {}
