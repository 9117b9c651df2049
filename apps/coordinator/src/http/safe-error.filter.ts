/**
 * Errors no handler expected (a database error, a bug) answer 500 and are logged by name, a
 * short message and the stack frames, never by their own fields: Nest's default handler printed
 * the whole error, and a TypeORM QueryFailedError carries the query's parameters (a job's whole
 * spec). HTTP errors go through Nest's handling unchanged.
 */
import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';

@Catch()
export class SafeErrorFilter extends BaseExceptionFilter {
  private readonly log = new Logger('ExceptionsHandler');

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException || host.getType() !== 'http') return super.catch(exception, host);
    this.log.error(describeUnexpected(exception));
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const statusCode = HttpStatus.INTERNAL_SERVER_ERROR;
    res.status(statusCode).json({ statusCode, message: 'Internal server error' });
  }
}

/** `Name (code): message` cut at 200 characters, then the stack frames: nothing the error carries besides. */
export function describeUnexpected(e: unknown): string {
  if (!(e instanceof Error)) return `unexpected ${typeof e} thrown`;
  const code = (e as { code?: unknown }).code;
  const message = e.message.length > 200 ? `${e.message.slice(0, 200)}…` : e.message;
  const frames = (e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 12);
  return [`${e.name}${typeof code === 'string' ? ` (${code})` : ''}: ${message}`, ...frames].join('\n');
}
