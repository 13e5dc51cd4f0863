import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Health } from '@hark/protocol';
import { Cluster } from '../cluster/cluster.js';
import { HarkStore } from '../store/store.js';
import { ref } from './schemas.js';

/**
 * `GET /api/health`, without a token (for load balancers and `docker compose` health checks): 200 while the
 * server runs; `status: degraded` while the data directory refuses writes (a full disk) or writes wait, or
 * while the cluster's Redis (`--redis`) is unreachable.
 */
@ApiTags('metrics')
@Controller('api/health')
export class HealthController {
  constructor(
    @Inject(HarkStore) private readonly store: HarkStore,
    @Inject(Cluster) private readonly cluster: Cluster,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Whether the server runs, its data directory takes writes and the cluster Redis answers',
  })
  @ApiResponse({ status: 200, schema: ref('Health') })
  health(): Health {
    const health = this.store.health;
    return {
      status: health.degraded || this.cluster.degraded ? 'degraded' : 'ok',
      storage: health.report(),
      cluster: this.cluster.health(),
    };
  }
}
