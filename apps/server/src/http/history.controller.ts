import { Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import {
  HISTORY_DEFAULT_COLUMNS,
  HISTORY_MAX_COLUMNS,
  TRENDS_DEFAULT_DAYS,
  TRENDS_MAX_DAYS,
  type SensorHistory,
  type SensorTrends,
} from '@hark/protocol';
import { HistoryService } from '../history/history.service.js';
import { HarkStore } from '../store/store.js';
import { DAY_MS } from '../store/trend.repository.js';
import { parseHistoryQuery } from './dto.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { SensorsPort } from './ports.js';
import { ref } from './schemas.js';
import { queryInt, sensorId } from './validate.js';

/** Most alerts marked on one history range (the newest). */
const MAX_ALERT_MARKS = 500;

/**
 * A sensor's stored spectrogram and anomaly map over a time range, and its daily score trends (the same role
 * as its score history).
 */
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
    return this.history.query(id, from, to, maxColumns, alerts, this.sensors.melHz(id));
  }

  @Get(':id/trends')
  @ApiRoute({
    summary:
      'Daily percentiles (50, 90, 99, max) of the normalised score and the alert count per UTC day, ' +
      'for the last `days` days (today included)',
    ok: ref('SensorTrends'),
    errors: [400, 401, 403, 404],
  })
  @ApiQuery({
    name: 'days',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: TRENDS_MAX_DAYS, default: TRENDS_DEFAULT_DAYS },
  })
  trends(@Param('id') id: string, @Query() query: Record<string, unknown>): SensorTrends {
    const days = queryInt(query, 'days', 1, TRENDS_MAX_DAYS, TRENDS_DEFAULT_DAYS) as number;
    if (!this.sensors.status(sensorId(id))) throw new NotFoundException(`sensor '${id}' not found`);
    const now = Date.now();
    const toDay = Math.floor(now / DAY_MS) * DAY_MS;
    const fromDay = toDay - (days - 1) * DAY_MS;
    this.store.scores.flush();
    const scored = new Map(this.store.trends.days(id, fromDay, toDay, now).map((d) => [d.day, d]));
    const alerts = this.store.trends.alertsPerDay(id, fromDay, toDay);
    const out: SensorTrends = { sensorId: id, days: [] };
    for (let day = fromDay; day <= toDay; day += DAY_MS) {
      const d = scored.get(day);
      out.days.push({
        day,
        n: d?.n ?? 0,
        p50: d?.p50 ?? null,
        p90: d?.p90 ?? null,
        p99: d?.p99 ?? null,
        max: d?.max ?? null,
        alerts: alerts.get(day) ?? 0,
      });
    }
    return out;
  }
}
