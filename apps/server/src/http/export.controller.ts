import { Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { Alert, TokenInfo } from '@hark/protocol';
import { AlertMediaStore } from '../alerts/alert-media.js';
import type { PictureKind } from '../alerts/pictures.js';
import { alertsCsv, shiftReportHtml, zip, type SensorInfo, type ZipEntry } from '../export/index.js';
import { isTimeZone } from '../notify/rules.js';
import { publicDelivery } from '../store/notification.repository.js';
import { HarkStore } from '../store/store.js';
import { AlertListQueries } from './alert-queries.js';
import { Caller } from './auth.guard.js';
import { parseAlertQuery } from './dto.js';
import { ApiController, ApiErrors } from './openapi.decorators.js';
import type { HttpResponse } from './types.js';
import { invalid, queryInt, recordId } from './validate.js';

/** Most alerts in one CSV: beyond it the filters must be narrowed. */
export const MAX_CSV_ALERTS = 50_000;
/** Most alerts in one shift report (each carries its picture). */
export const MAX_REPORT_ALERTS = 300;
/** A shift report covers at most this period, ms (31 days). */
export const MAX_REPORT_MS = 31 * 24 * 3600 * 1000;
/** Default shift-report period: the last 12 hours. */
export const DEFAULT_REPORT_MS = 12 * 3600 * 1000;

const stamp = (t: number) => new Date(t).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

/**
 * Exports for maintenance: the alert list as CSV (the list's filters), one alert as a zip bundle (clip,
 * pictures, JSON of the alert with its annotations and deliveries), and the printable shift report. Like every
 * route, they take the token in the header only; the dashboard fetches them and hands the bytes to the browser.
 */
@ApiController('api/export', { tag: 'alerts', role: 'operator' })
export class ExportController {
  constructor(
    @Inject(HarkStore) private readonly store: HarkStore,
    @Inject(AlertMediaStore) private readonly media: AlertMediaStore,
  ) {}

  @Get('alerts.csv')
  @ApiOperation({
    summary: "Every alert matching the alert list's filters, as CSV (open first, newest first)",
  })
  @AlertListQueries()
  @ApiProduces('text/csv')
  @ApiResponse({ status: 200, content: { 'text/csv': {} } })
  @ApiErrors(400, 401, 403)
  csv(@Query() query: Record<string, unknown>, @Res() res: HttpResponse): void {
    const { filters, order } = parseAlertQuery({ ...query, limit: undefined, offset: undefined });
    const first = this.store.alerts.list(filters, 500, 0, order);
    if (first.total > MAX_CSV_ALERTS)
      throw invalid(
        'the filters',
        `${first.total} alerts`,
        `must select at most ${MAX_CSV_ALERTS}: narrow the period or sensor`,
      );
    const alerts: Alert[] = [...first.items];
    while (alerts.length < first.total) {
      const page = this.store.alerts.list(filters, 500, alerts.length, order);
      if (page.items.length === 0) break;
      alerts.push(...page.items);
    }
    const body = Buffer.from(
      alertsCsv(alerts, (id) => this.sensor(id)),
      'utf8',
    );
    send(res, 'text/csv; charset=utf-8', body, `hark-alerts-${stamp(Date.now())}.csv`);
  }

  @Get('alerts/:id/bundle.zip')
  @ApiOperation({
    summary:
      'An alert as a zip: alert.json (alert, annotations, sensor, deliveries), clip.wav and the pictures when kept',
  })
  @ApiProduces('application/zip')
  @ApiResponse({ status: 200, content: { 'application/zip': {} } })
  @ApiErrors(400, 401, 403, 404)
  async bundle(@Param('id') id: string, @Res() res: HttpResponse): Promise<void> {
    const alert = this.store.alerts.require(recordId('alert id', id));
    const s = this.store.sensors.get(alert.sensorId);
    const date = new Date(alert.start);
    const entries: ZipEntry[] = [];
    const json = {
      alert,
      sensor: { id: alert.sensorId, name: s?.name ?? alert.sensorId, labels: s?.labels ?? {} },
      deliveries: this.store.notifications
        .deliveries({ alertId: alert.id }, 500, 0)
        .items.map(publicDelivery),
      exportedAt: new Date().toISOString(),
    };
    entries.push({ name: 'alert.json', data: Buffer.from(JSON.stringify(json, null, 2) + '\n'), date });
    if (await this.media.hasClip(alert.id))
      entries.push({ name: 'clip.wav', data: await this.media.readClip(alert.id), date });
    for (const kind of ['spectrogram', 'anomaly', 'overlay'] as PictureKind[]) {
      const png = await this.media.picture(alert.id, kind).catch(() => null);
      if (png) entries.push({ name: `${kind}.png`, data: png, date });
    }
    send(res, 'application/zip', zip(entries), `hark-alert-${alert.id}.zip`);
  }

  @Get('shift-report')
  @ApiOperation({
    summary:
      'A printable HTML report of the alerts of a period, grouped by machine, with pictures and annotations',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'ms since the epoch (default: 12 h before to)',
    schema: { type: 'integer' },
  })
  @ApiQuery({
    name: 'to',
    required: false,
    description: 'ms since the epoch (default: now)',
    schema: { type: 'integer' },
  })
  @ApiQuery({
    name: 'tz',
    required: false,
    description: 'IANA time zone of the times shown (default UTC)',
    schema: { type: 'string' },
  })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, content: { 'text/html': {} } })
  @ApiErrors(400, 401, 403)
  async shiftReport(
    @Query() query: Record<string, unknown>,
    @Caller() caller: TokenInfo,
    @Res() res: HttpResponse,
  ): Promise<void> {
    const now = Date.now();
    const to = queryInt(query, 'to', 0, 8.64e15, now) as number;
    const from = queryInt(query, 'from', 0, 8.64e15, to - DEFAULT_REPORT_MS) as number;
    if (from >= to) throw invalid('from', from, `must be before to (${to})`);
    if (to - from > MAX_REPORT_MS)
      throw invalid('to - from', `${to - from} ms`, 'must be at most 31 days: a report is for a shift');
    const tz = query.tz === undefined ? 'UTC' : query.tz;
    if (typeof tz !== 'string' || !isTimeZone(tz))
      throw invalid('tz', tz, 'must be an IANA time zone such as Europe/Berlin');
    const page = this.store.alerts.list({ from, to }, MAX_REPORT_ALERTS, 0);
    const pictures = new Map<number, Buffer>();
    for (const a of page.items) {
      const png = await this.media.picture(a.id, 'overlay').catch(() => null);
      if (png) pictures.set(a.id, png);
    }
    const html = shiftReportHtml({
      from,
      to,
      timeZone: tz,
      alerts: page.items,
      sensors: (id) => this.sensor(id),
      pictures,
      by: caller.name,
      at: now,
      omitted: page.total - page.items.length,
    });
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(html);
  }

  private sensor(id: string): SensorInfo | undefined {
    const s = this.store.sensors.get(id);
    return s ? { name: s.name, labels: s.labels } : undefined;
  }
}

/** A download: bytes with their type and file name. */
function send(res: HttpResponse, type: string, bytes: Buffer, filename: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', bytes.length);
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.end(bytes);
}
