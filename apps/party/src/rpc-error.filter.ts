/**
 * Every error a party handler throws goes back to the caller as {message, partyId, name}, so the
 * coordinator can show which party failed and why (Nest's default would say "Internal server error").
 */
import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import type { RemoteErrorBody } from '../../../libs/transport/src/rpc-call';

@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('PartyRpc');

  constructor(private readonly partyId: string) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const error = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.warn(`${error.name}: ${error.message}`);
    const body: RemoteErrorBody = { message: error.message, partyId: this.partyId, name: error.name };
    return throwError(() => body);
  }
}
