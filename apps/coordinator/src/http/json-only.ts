/**
 * The API speaks JSON only. A body of another content type was parsed as nothing (or, for a form,
 * as strings) and validation then answered "model must be…"; it gets a 415 naming the content
 * type instead. A request without a body (a cancel, a retry) needs no content type. body-parser's
 * own errors are answered here too, in words of their own: JSON.parse's message quotes the body
 * ("Unexpected token 'S', "SECRET…" is not valid JSON"), and Nest would pass it on as the answer.
 */
import type { NextFunction, Request, Response } from 'express';

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

/** Why a request's body is refused, or undefined when it has none or it is JSON. */
export function unsupportedBody(headers: Request['headers']): string | undefined {
  const length = headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
  if (!hasBody) return undefined;
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return undefined;
  if (type === '') return 'the request has a body but no content type: send it as application/json';
  if (!MEDIA_TYPE.test(type)) return 'the content type is not a media type: send the body as application/json';
  return `content type ${type} is not supported: send the body as application/json`;
}

/** Express middleware answering 415, in the shape of Nest's error bodies. */
export function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const problem = unsupportedBody(req.headers);
  if (!problem) return next();
  res.status(415).json({ message: problem, error: 'Unsupported Media Type', statusCode: 415 });
}

/** Express error middleware (after the body parser): body-parser's errors, answered without their message. */
export function answerBodyParserErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const { status, type } = (err ?? {}) as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || typeof type !== 'string' || !type.startsWith('entity.')) return next(err);
  const message =
    type === 'entity.parse.failed'
      ? 'the body is not valid JSON'
      : type === 'entity.too.large'
        ? 'the body is larger than the 8 MB limit'
        : `the body could not be read (${type})`;
  res.status(status).json({ message, error: status === 413 ? 'Payload Too Large' : 'Bad Request', statusCode: status });
}
