/**
 * Every error a party handler throws goes back to the caller as {message, partyId, name}, so the
 * coordinator can show which party failed and why (Nest's default would say "Internal server error").
 */
import { ArgumentsHost, Catch, Injectable, Logger, RpcExceptionFilter } from '@nestjs/common';
import { PartyConfig } from './party.config';
import { Observable, throwError } from 'rxjs';
import type { RemoteErrorBody } from '@vfl/transport';

@Injectable()
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('PartyRpc');
  private readonly partyId: string;

  constructor(config: PartyConfig) {
    this.partyId = config.partyId;
  }

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const error = exception instanceof Error ? exception : new Error(String(exception));
    const data = host.switchToRpc().getData<{ jobId?: unknown } | undefined>();
    this.logger.warn({
      message: `${error.name}: ${error.message}`,
      // The claim is unauthenticated: only a plain id goes into the log (no NUL, no smuggled text).
      jobId: typeof data?.jobId === 'string' && /^[A-Za-z0-9_.:-]{1,128}$/.test(data.jobId) ? data.jobId : undefined,
    });
    const failedAt = (error as { failedAt?: unknown }).failedAt;
    const body: RemoteErrorBody = {
      message: error.message,
      partyId: this.partyId,
      name: error.name,
      ...(typeof failedAt === 'string' ? { failedAt } : {}),
    };
    return throwError(() => body);
  }
}
