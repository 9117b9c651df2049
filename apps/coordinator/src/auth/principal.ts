import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Role } from '@vfl/access';

/** Who is calling: the API key that authenticated the request. */
export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
}

/** A request ApiKeyGuard let through: it put the caller on it (unset on @Public routes). */
export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal!,
);
