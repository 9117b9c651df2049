import { SetMetadata } from '@nestjs/common';
import type { Role } from '@vfl/access';

export const ROLES_KEY = 'vfl:roles';
export const PUBLIC_KEY = 'vfl:public';

/** The roles allowed on a route or controller (every route needs a key unless @Public). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** A route that needs no key (health checks). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
