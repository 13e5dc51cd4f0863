import { Body, Delete, Get, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { CreatedToken, Me, TokenInfo } from '@hark/protocol';
import { TokenService } from '../auth/token.service.js';
import { Caller } from './auth.guard.js';
import { parseNewToken } from './dto.js';
import { ApiController, ApiErrors } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import { recordId } from './validate.js';

/** API tokens (admin only); secrets are shown once, at creation. */
@ApiController('api/tokens', { tag: 'tokens', role: 'admin' })
export class TokensController {
  constructor(@Inject(TokenService) private readonly tokens: TokenService) {}

  @Get()
  @ApiOperation({ summary: 'Every token (never the secrets), oldest first' })
  @ApiResponse({ status: 200, schema: arrayOf('TokenInfo') })
  @ApiErrors(401, 403)
  list(): TokenInfo[] {
    return this.tokens.list();
  }

  @Post()
  @ApiOperation({ summary: 'Create a token; the answer holds its secret, which cannot be shown again' })
  @ApiBody({ schema: BODIES.token })
  @ApiResponse({ status: 201, schema: ref('CreatedToken') })
  @ApiErrors(400, 401, 403)
  create(@Body() body: unknown): CreatedToken {
    const { role, name, sensors } = parseNewToken(body);
    return this.tokens.create(role, name, sensors);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a token (at once: its next request gets 401)' })
  @ApiResponse({ status: 200, schema: ref('TokenInfo') })
  @ApiErrors(400, 401, 403, 404)
  revoke(@Param('id') id: string): TokenInfo {
    return this.tokens.revoke(recordId('token id', id));
  }
}

/** Who the caller is (the dashboard shows it and hides what the role may not do). */
@ApiController('api/me', { tag: 'tokens', role: 'operator' })
export class MeController {
  @Get()
  @ApiOperation({ summary: "The calling token's name and role" })
  @ApiResponse({ status: 200, schema: ref('Me') })
  @ApiErrors(401, 403)
  me(@Caller() caller: TokenInfo): Me {
    return { name: caller.name, role: caller.role };
  }
}
