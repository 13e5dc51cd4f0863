/**
 * REST authentication and roles. A request carries its token as `Authorization: Bearer <token>` or, for media
 * URLs that `<audio>` / `<img>` load, as `?token=`. `AuthGuard` verifies it, checks the route's `@Roles(...)`
 * (operator unless a route says otherwise; admin > operator > sensor) and keeps the token for `@Caller()`.
 */
import {
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role, TokenInfo } from '@hark/protocol';
import { TokenService } from '../auth/token.service.js';
import { roleAllows } from '@hark/protocol';
import type { HttpRequest } from './types.js';

const ROLE_KEY = 'hark:role';

/** The least role a route (or every route of a controller) needs. */
export const Roles = (role: Role) => SetMetadata(ROLE_KEY, role);

/** The verified token of the request (`who` of acknowledgements and notes is its name). */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): TokenInfo => {
  const caller = ctx.switchToHttp().getRequest<HttpRequest>().caller;
  if (!caller) throw new Error('@Caller() used on a route without AuthGuard');
  return caller;
});

/** The secret of a request: the bearer token, else the `token` query parameter. */
export function requestToken(req: Pick<HttpRequest, 'headers' | 'query'>): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : null;
  }
  const query = req.query?.token;
  return typeof query === 'string' && query.length > 0 ? query : null;
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const secret = requestToken(req);
    if (secret === null) {
      throw new UnauthorizedException(
        req.headers.authorization
          ? "malformed Authorization header: send 'Authorization: Bearer <token>'"
          : "missing token: send 'Authorization: Bearer <token>' (or ?token=<token> on media URLs)",
      );
    }
    const caller = this.tokens.verify(secret);
    if (!caller) throw new UnauthorizedException('invalid or revoked token');
    const need =
      this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'operator';
    if (!roleAllows(caller.role, need)) {
      throw new ForbiddenException(
        caller.role === 'sensor'
          ? `token '${caller.name}' is a sensor token: it may only stream on /sensor`
          : `token '${caller.name}' has role ${caller.role}; this needs ${need}`,
      );
    }
    req.caller = caller;
    return true;
  }
}
