import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { AuditService } from '../audit/audit.service';
import { AuditQueryDto, CreateJobDto } from './dto/create-job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Roles('admin', 'operator', 'auditor')
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Start a training job: alignment by PSI, then split logistic regression under CKKS' })
  @ApiCreatedResponse({ description: 'The job, in state queued' })
  create(@Body() dto: CreateJobDto, @CurrentPrincipal() principal: Principal) {
    return this.jobs.create(dto, principal);
  }

  @Get(':id')
  @ApiOperation({ summary: 'State, progress, per-epoch metrics and outcome of a job' })
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.jobs.get(id);
  }

  @Get(':id/audit')
  @ApiOperation({ summary: "The job's audit events (digests and sizes, never content) and the chain's verification" })
  @ApiOkResponse({ description: '{ events, verification: { valid, events, firstBroken } }' })
  async auditTrail(@Param('id', new ParseUUIDPipe()) id: string, @Query() page: AuditQueryDto) {
    await this.jobs.get(id);
    const [events, verification] = await Promise.all([this.audit.events(id, page), this.audit.verify(id)]);
    return { events, verification };
  }
}
