import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Health } from '@hark/protocol';
import { HarkStore } from '../store/store.js';
import { ref } from './schemas.js';

/**
 * `GET /api/health`, without a token (for load balancers and `docker compose` health checks): 200 while the
 * server runs; `status: degraded` while the data directory refuses writes (a full disk) or writes wait.
 */
@ApiTags('metrics')
@Controller('api/health')
export class HealthController {
  constructor(@Inject(HarkStore) private readonly store: HarkStore) {}

  @Get()
  @ApiOperation({ summary: 'Whether the server runs and its data directory takes writes' })
  @ApiResponse({ status: 200, schema: ref('Health') })
  health(): Health {
    const health = this.store.health;
    return { status: health.degraded ? 'degraded' : 'ok', storage: health.report() };
  }
}
