/**
 * Every request needs an API key (`Authorization: Bearer vfl_…` or `X-API-Key: vfl_…`) unless its
 * route is @Public; the key's role must be one the route allows. 401 for no or a bad key, 403 for
 * a role that may not.
 */
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@vfl/access';
import { ApiKeysService } from './api-keys.service';
import type { AuthenticatedRequest } from './principal';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    // Node joins a repeated custom header into one string: only set-cookie is ever an array.
    const presented = header?.startsWith('Bearer ')
      ? header.slice(7).trim()
      : (request.headers['x-api-key'] as string | undefined);
    if (!presented) throw new UnauthorizedException('an API key is required (Authorization: Bearer vfl_…)');
    const principal = await this.keys.authenticate(presented);
    if (!principal) throw new UnauthorizedException('the API key is not valid (unknown, malformed or revoked)');
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? ['admin'];
    if (!allowed.includes(principal.role)) {
      throw new ForbiddenException(`the ${principal.role} role may not do this (allowed: ${allowed.join(', ')})`);
    }
    request.principal = principal;
    return true;
  }
}
