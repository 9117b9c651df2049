/**
 * POST /jobs/validate: a job request checked without starting it. The request's own problems are
 * a 400 as for POST /jobs; then every party checks its file against the job (job.check) and the
 * answer lists every problem of every party at once — kinds, columns, counts and lines, no cells.
 */
import { BadRequestException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { checkJobData, jobStrategies, type JobDataCheck } from '@vfl/protocol';
import { PartyClients } from '../parties/party-clients.service';
import type { CreateJobDto } from './dto/create-job.dto';
import { requestProblems, specOf } from './job-request';

@Injectable()
export class JobValidationService {
  private readonly strategies = jobStrategies();

  constructor(private readonly parties: PartyClients) {}

  async validate(dto: CreateJobDto): Promise<JobDataCheck> {
    const problems = requestProblems(dto, (partyId) => this.parties.knows(partyId));
    if (problems.length) throw new BadRequestException(problems);
    const spec = specOf(dto, randomUUID(), (partyId) => this.parties.pinnedKey(partyId));
    const strategy = this.strategies.get(spec.model);
    if (!strategy) throw new BadRequestException([`model: no strategy for "${spec.model}"`]);
    return checkJobData(spec, this.parties.channels(), {
      labelled: strategy.alignment !== 'cardinality',
      batchSize: strategy.dataSettings(spec).batchSize,
    });
  }
}
