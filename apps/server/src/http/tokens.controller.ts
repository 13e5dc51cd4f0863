import { Body, Delete, Get, Inject, Param, Post } from '@nestjs/common';

import type { CreatedToken, Me, TokenInfo } from '@hark/protocol';
import { TokenService } from '../auth/token.service.js';
import { Caller } from './auth.guard.js';
import { parseNewToken } from './dto.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import { recordId } from './validate.js';

/** API tokens (admin only); secrets are shown once, at creation. */
@ApiController('api/tokens', { tag: 'tokens', role: 'admin' })
export class TokensController {
  constructor(@Inject(TokenService) private readonly tokens: TokenService) {}

  @Get()
  @ApiRoute({
    summary: 'Every token (never the secrets), oldest first',
    ok: arrayOf('TokenInfo'),
    errors: [401, 403],
  })
  list(): Promise<TokenInfo[]> {
    return this.tokens.list();
  }

  @Post()
  @ApiRoute({
    summary: 'Create a token; the answer holds its secret, which cannot be shown again',
    body: BODIES.token,
    ok: ref('CreatedToken'),
    status: 201,
    errors: [400, 401, 403],
  })
  create(@Body() body: unknown): Promise<CreatedToken> {
    const { role, name, sensors } = parseNewToken(body);
    return this.tokens.create(role, name, sensors);
  }

  @Delete(':id')
  @ApiRoute({
    summary: 'Revoke a token (at once: its next request gets 401)',
    ok: ref('TokenInfo'),
    errors: [400, 401, 403, 404],
  })
  revoke(@Param('id') id: string): Promise<TokenInfo> {
    return this.tokens.revoke(recordId('token id', id));
  }
}

/** Who the caller is (the dashboard shows it and hides what the role may not do). */
@ApiController('api/me', { tag: 'tokens', role: 'operator' })
export class MeController {
  @Get()
  @ApiRoute({ summary: "The calling token's name and role", ok: ref('Me'), errors: [401, 403] })
  me(@Caller() caller: TokenInfo): Me {
    return { name: caller.name, role: caller.role };
  }
}
