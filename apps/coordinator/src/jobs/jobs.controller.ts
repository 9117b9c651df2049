import {
  Body,
  Controller,
  Get,
  HttpCode,
  MessageEvent,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  Sse,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { map, Observable } from 'rxjs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { AuditService } from '../audit/audit.service';
import { CreateJobDto, PageQueryDto, PredictDto } from './dto/create-job.dto';
import { JobListQuery } from './job-list';
import { etagMatches } from './job-list-cache';
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

  @Get()
  @ApiOperation({
    summary:
      'Job summaries (id, state, model, createdAt, updatedAt), newest first, optionally by state; 100 a page by default. The next page: ?cursor= the X-Next-Cursor header (also in Link rel="next"), absent on the last page',
  })
  async list(@Query() q: JobListQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const page = await this.jobs.list(q);
    // The client's copy is current (If-None-Match, RFC 9110 13.1.2): 304 with no body.
    res.setHeader('ETag', page.etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (page.nextCursor) {
      const next = new URLSearchParams({
        ...(q.state ? { state: q.state } : {}),
        ...(q.limit ? { limit: String(q.limit) } : {}),
        ...(q.include ? { include: q.include } : {}),
        cursor: page.nextCursor,
      });
      res.setHeader('X-Next-Cursor', page.nextCursor);
      res.setHeader('Link', `</jobs?${next.toString()}>; rel="next"`);
    }
    if (etagMatches(req.headers['if-none-match'], page.etag)) {
      res.status(304);
      return '';
    }
    res.type('application/json');
    return page.json;
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary: 'Cancel a queued job at once, a running one at its next protocol step; 409 for a finished job',
  })
  cancel(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.jobs.cancel(id, principal);
  }

  @Post(':id/retry')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Start a new job with the request of a failed or cancelled one' })
  retry(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.jobs.retry(id, principal);
  }

  @Post(':id/predict')
  @HttpCode(200)
  @Roles('admin', 'operator')
  @ApiOperation({
    summary:
      "Score IDs with a succeeded split-LR or split-NN job's model: each party scores its own rows with its own saved part, the label party combines (split NN: through the encrypted interactive layer); a feature party learns nothing about the scores",
  })
  @ApiOkResponse({
    description:
      '{ predictionId, modelJobId, scores: [{ id, score }] } in request order; 409 for a job that cannot predict, 422 when a party refuses (IDs it does not hold, other columns than in training)',
  })
  predict(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() dto: PredictDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.jobs.predict(id, dto, principal);
  }

  @Post(':id/resume')
  @Roles('admin', 'operator')
  @ApiOperation({
    summary:
      "Start a new job that continues a failed split-LR or split-NN job from its parties' last per-epoch checkpoint (same request; it reaches the model an uninterrupted run reaches, split NN within run-to-run noise)",
  })
  resume(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.jobs.resume(id, principal);
  }

  @Sse(':id/events')
  @ApiOperation({ summary: 'Server-Sent Events: state changes, progress and per-epoch metrics until the job ends' })
  async events(@Param('id', new ParseUUIDPipe()) id: string): Promise<Observable<MessageEvent>> {
    return (await this.jobs.events(id)).pipe(map((e) => ({ type: e.type, data: e.data }) as MessageEvent));
  }

  @Get(':id')
  @ApiOperation({ summary: 'State, progress, per-epoch metrics and outcome of a job' })
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.jobs.get(id);
  }

  @Get(':id/audit/checkpoints')
  @ApiOperation({
    summary:
      "The job's signed chain heads (seq, head hash, signer, ed25519 public key and signature over vfl-audit-checkpoint-v1|job=|seq=|head=), oldest first",
  })
  async signedHeads(@Param('id', new ParseUUIDPipe()) id: string) {
    await this.jobs.get(id);
    return this.audit.checkpoints(id);
  }

  @Get(':id/audit')
  @ApiOperation({ summary: "The job's audit events (digests and sizes, never content) and the chain's verification" })
  @ApiOkResponse({ description: '{ events, verification: { valid, events, firstBroken } }' })
  async auditTrail(@Param('id', new ParseUUIDPipe()) id: string, @Query() page: PageQueryDto) {
    await this.jobs.get(id);
    const [events, verification] = await Promise.all([this.audit.events(id, page), this.audit.verify(id)]);
    return { events, verification };
  }
}
