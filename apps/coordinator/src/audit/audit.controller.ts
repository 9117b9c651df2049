/** Read-only access to the audit trail for auditors: search, export, per-job data-usage report. */
import { Controller, Get, Header, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import type { Response } from 'express';
import type { ChainedAuditEvent } from '@vfl/audit';
import { PSI_HASH_SUITE } from '@vfl/crypto';
import { isSplitLrResult } from '@vfl/protocol';
import { Roles } from '../auth/roles.decorator';
import { PageQueryDto } from '../jobs/dto/create-job.dto';
import { JobsService } from '../jobs/jobs.service';
import { AuditService } from './audit.service';

export class AuditSearchDto extends PageQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() jobId?: string;
  @ApiPropertyOptional({ example: 'bank' }) @IsOptional() @Matches(/^[A-Za-z0-9_:-]{1,64}$/) party?: string;
  @ApiPropertyOptional({ example: 'peer.lr.forward' }) @IsOptional() @Matches(/^[a-z_.]{1,64}$/) step?: string;
  @ApiPropertyOptional({ example: '2026-11-22T00:00:00Z' }) @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional() @IsOptional() @Type(() => Date) @IsDate() to?: Date;
}

export class AuditExportDto extends AuditSearchDto {
  @ApiPropertyOptional({ enum: ['jsonl', 'csv'], default: 'jsonl' }) @IsOptional() @IsIn(['jsonl', 'csv']) format?:
    'jsonl' | 'csv';
}

const CSV_COLUMNS = [
  'jobId',
  'seq',
  'occurredAt',
  'step',
  'sender',
  'receiver',
  'messageDigest',
  'byteSize',
  'detail',
  'prevHash',
  'hash',
] as const;

@ApiTags('audit')
@ApiBearerAuth()
@Roles('admin', 'auditor', 'operator')
@Controller()
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
  ) {}

  @Get('audit/events')
  @ApiOperation({ summary: 'Audit events filtered by job, party, step and time range, paged' })
  search(@Query() q: AuditSearchDto) {
    return this.audit.search(q, { offset: q.offset, limit: q.limit });
  }

  @Get('audit/events/export')
  @ApiOperation({ summary: 'The matching events as JSON Lines or CSV (all pages)' })
  @Header('cache-control', 'no-store')
  async export(@Query() q: AuditExportDto, @Res() res: Response): Promise<void> {
    const csv = q.format === 'csv';
    res.setHeader('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="audit-events.${csv ? 'csv' : 'jsonl'}"`);
    if (csv) res.write(`${CSV_COLUMNS.join(',')}\n`);
    for (let offset = q.offset ?? 0; ; offset += 5000) {
      const page = await this.audit.search(q, { offset, limit: 5000 });
      for (const e of page) res.write(csv ? `${csvRow(e)}\n` : `${JSON.stringify(e)}\n`);
      if (page.length < 5000) break;
    }
    res.end();
  }

  @Get('jobs/:id/report')
  @ApiOperation({
    summary:
      'Data-usage report: who started the job, datasets, columns, rows, intersection, model, privacy settings, outcome',
  })
  async report(@Param('id', new ParseUUIDPipe()) id: string) {
    const job = await this.jobs.get(id);
    const events = await this.audit.search({ jobId: id }, { limit: 10000 });
    const created = events.find((e) => e.step === 'job.created');
    const keys = events.find((e) => e.step === 'he.keys');
    const psi = events.find((e) => e.step === 'psi.result');
    return {
      jobId: id,
      startedBy: created?.detail.startedBy ?? null,
      startedAt: created?.occurredAt ?? null,
      model: job.model,
      hyperparameters: job.hyperparameters,
      datasets: events
        .filter((e) => e.step === 'job.prepare')
        .map((e) => ({ party: e.sender, role: job.parties.find((p) => p.partyId === e.sender)?.role, ...e.detail })),
      intersection: psi?.detail ?? null,
      privacy: {
        alignment: `ECDH-PSI over X25519 (hash to group: ${PSI_HASH_SUITE}, expand_message_xmd SHA-512 and Elligator 2), fresh keys per job, domain separation by job id`,
        idRules: job.alignment.idRules,
        encryption: keys ? { scheme: 'CKKS', parameterSet: keys.detail.parameterSet } : null,
        gradientMasks: 'uniform in [-2^30, 2^30] per slot, fresh per batch',
        decryptionRelease: 'announced ciphertexts only, once; Gaussian flooding sigma 2^-20, rounded to 2^-20',
      },
      outcome: {
        state: job.state,
        error: job.error,
        failedParty: job.failedParty,
        result: job.result && summary(job.result),
      },
      audit: await this.audit.verify(id),
    };
  }
}

function summary(result: NonNullable<Awaited<ReturnType<JobsService['get']>>['result']>) {
  if (!isSplitLrResult(result))
    return { intersection: result.intersection, cardinalityOnly: true, seconds: result.seconds };
  return {
    intersection: result.intersection,
    trainAuc: result.train.auc,
    validationAuc: result.validation.auc,
    labelOnlyTrainAuc: result.labelOnly.train.auc,
    epochs: result.epochs.length,
    seconds: result.seconds,
  };
}

function csvRow(e: ChainedAuditEvent): string {
  const cell = (v: ChainedAuditEvent[(typeof CSV_COLUMNS)[number]]) => {
    const text =
      v === null || v === undefined
        ? ''
        : v instanceof Date
          ? v.toISOString()
          : typeof v === 'object'
            ? JSON.stringify(v)
            : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return CSV_COLUMNS.map((c) => cell(e[c])).join(',');
}
