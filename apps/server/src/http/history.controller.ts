import { Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { HISTORY_DEFAULT_COLUMNS, HISTORY_MAX_COLUMNS, type SensorHistory } from '@hark/protocol';
import { HistoryService } from '../history/history.service.js';
import { HarkStore } from '../store/store.js';
import { parseHistoryQuery } from './dto.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { SensorsPort } from './ports.js';
import { ref } from './schemas.js';
import { sensorId } from './validate.js';

/** Most alerts marked on one history range (the newest). */
const MAX_ALERT_MARKS = 500;

/** A sensor's stored spectrogram and anomaly map over a time range (the same role as its score history). */
@ApiController('api/sensors', { tag: 'sensors', role: 'operator' })
export class HistoryController {
  constructor(
    @Inject(SensorsPort) private readonly sensors: SensorsPort,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(HarkStore) private readonly store: HarkStore,
  ) {}

  @Get(':id/history')
  @ApiRoute({
    summary:
      'Stored spectrogram and anomaly map over [from, to), from full resolution when the range is short and ' +
      'still held, else the reduced tier, max-downsampled to maxColumns; with the alerts of the range',
    ok: ref('SensorHistory'),
    errors: [400, 401, 403, 404],
  })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'ms since the epoch (default: to - 1 h)',
    schema: { type: 'integer' },
  })
  @ApiQuery({
    name: 'to',
    required: false,
    description: 'ms since the epoch (default: now)',
    schema: { type: 'integer' },
  })
  @ApiQuery({
    name: 'maxColumns',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: HISTORY_MAX_COLUMNS, default: HISTORY_DEFAULT_COLUMNS },
  })
  get(@Param('id') id: string, @Query() query: Record<string, unknown>): SensorHistory {
    const { from, to, maxColumns } = parseHistoryQuery(query, Date.now());
    if (!this.sensors.status(sensorId(id))) throw new NotFoundException(`sensor '${id}' not found`);
    const alerts = this.store.alerts
      .list({ sensorId: id, from, to }, MAX_ALERT_MARKS)
      .items.map(({ id: alertId, kind, state, start, end, peakScore, peakAt }) => ({
        id: alertId,
        kind,
        state,
        start,
        end,
        peakScore,
        peakAt,
      }));
    return this.history.query(id, from, to, maxColumns, alerts);
  }
}
