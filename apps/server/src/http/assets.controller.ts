import { Get, Inject } from '@nestjs/common';
import {
  buildAssetTree,
  compareSensors,
  deriveTileState,
  type Alert,
  type AssetSensor,
  type AssetTree,
  type SensorStatus,
} from '@hark/protocol';
import { MAX_ALERT_PAGE } from '../store/alert.repository.js';
import { HarkStore } from '../store/store.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { SensorsPort } from './ports.js';
import { ref } from './schemas.js';

/**
 * The sensors as asset groups (site > line > machine, from their labels) with each group's roll-up: the tree
 * the dashboard's overview draws, for plant systems that want it without the live stream.
 */
@ApiController('api/assets', { tag: 'sensors', role: 'operator' })
export class AssetsController {
  constructor(
    @Inject(SensorsPort) private readonly sensors: SensorsPort,
    @Inject(HarkStore) private readonly store: HarkStore,
  ) {}

  @Get()
  @ApiRoute({
    summary:
      'Every sensor in its site > line > machine group (from its labels; missing levels are "unassigned"), ' +
      "each group with the worst state of its sensors and the count in each state (the overview's tile states)",
    ok: ref('AssetTree'),
    errors: [401, 403],
  })
  tree(): AssetTree {
    // The unresolved alerts decide `review` and `acknowledged`; a sensor with none of them among the newest
    // page falls back to its status' own counts (as the dashboard does until it holds its alerts).
    const unresolved: Alert[] = this.store.alerts.list(
      { state: ['open', 'acknowledged'] },
      MAX_ALERT_PAGE,
    ).items;
    const sensors = this.sensors.list().map((s: SensorStatus): AssetSensor => ({
      id: s.id,
      name: s.name,
      state: deriveTileState(s, unresolved),
      labels: s.labels ?? {},
    }));
    const groups = buildAssetTree<AssetSensor>(sensors, {
      labels: (s) => s.labels,
      state: (s) => s.state,
      compare: compareSensors,
    });
    return { groups, total: sensors.length };
  }
}
