/**
 * REST authentication and roles. A request carries its token as `Authorization: Bearer <token>`; never in the
 * URL, where it would end up in logs, history and Referer headers (`?token=` is refused everywhere; the
 * dashboard's sign-in link reads it in the browser and never sends it). Media URLs that `<audio>` / `<img>`
 * load carry instead a short-lived `?ticket=` bound to their alert and route ({@link MediaTickets}).
 * `AuthGuard` verifies either, checks the route's `@Roles(...)` (operator unless a route says otherwise;
 * admin > operator > sensor) and keeps the token for `@Caller()`.
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
import { MediaTickets, type MediaRoute } from '../auth/media-tickets.js';
import { TokenService } from '../auth/token.service.js';
import { roleAllows } from '@hark/protocol';
import type { HttpRequest } from './types.js';

const ROLE_KEY = 'hark:role';
const TICKET_KEY = 'hark:media-ticket';

/** The route also opens with a media ticket for `route` of the alert in its `:id` parameter. */
export const MediaTicket = (route: MediaRoute) => SetMetadata(TICKET_KEY, route);

/** The least role a route (or every route of a controller) needs. */
export const Roles = (role: Role) => SetMetadata(ROLE_KEY, role);

/** The verified token of the request (`who` of acknowledgements and notes is its name). */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): TokenInfo => {
  const caller = ctx.switchToHttp().getRequest<HttpRequest>().caller;
  if (!caller) throw new Error('@Caller() used on a route without AuthGuard');
  return caller;
});

/** The bearer token of a request; null when it sends none or a malformed header. */
export function requestToken(req: Pick<HttpRequest, 'headers'>): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.length === 0) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(MediaTickets) private readonly tickets: MediaTickets,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const ticketRoute = this.reflector.get<MediaRoute | undefined>(TICKET_KEY, context.getHandler());
    const ticketHint = ticketRoute
      ? `, or ?ticket= from POST /api/alerts/${req.params?.id ?? ':id'}/media-tickets`
      : '';
    if (req.query?.token !== undefined)
      throw new UnauthorizedException(
        `tokens are not accepted in URLs (they end up in logs and browser history): send 'Authorization: Bearer <token>'${ticketHint}`,
      );
    const caller = await this.#caller(req, ticketRoute, ticketHint);
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

  async #caller(
    req: HttpRequest,
    ticketRoute: MediaRoute | undefined,
    ticketHint: string,
  ): Promise<TokenInfo> {
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.length > 0) {
      const secret = requestToken(req);
      if (secret === null)
        throw new UnauthorizedException(
          "malformed Authorization header: send 'Authorization: Bearer <token>'",
        );
      const caller = await this.tokens.verify(secret);
      if (!caller) throw new UnauthorizedException('invalid or revoked token');
      return caller;
    }
    const ticket = req.query?.ticket;
    if (ticketRoute && typeof ticket === 'string' && ticket.length > 0) {
      const checked = this.tickets.verify(ticket, Number(req.params?.id), ticketRoute);
      if (typeof checked === 'string') throw new UnauthorizedException(checked);
      const caller = await this.tokens.active(checked.tokenId);
      if (!caller) throw new UnauthorizedException('the token that asked for this ticket was revoked');
      return caller;
    }
    throw new UnauthorizedException(`missing token: send 'Authorization: Bearer <token>'${ticketHint}`);
  }
}
