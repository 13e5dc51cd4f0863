import { Body, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import {
  type Alert,
  type AlertAction,
  type AlertNeighbours,
  type BulkAlertResult,
  type Page,
  type TokenInfo,
} from '@hark/protocol';
import { AlertService } from '../alerts/alert.service.js';
import { AlertListQueries } from './alert-queries.js';
import { ModelsPort } from './ports.js';
import { Caller } from './auth.guard.js';
import { parseAlertQuery, parseAnnotation, parseBulkAlerts, parseFalseAlarm } from './dto.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import { recordId } from './validate.js';

/** Alerts: the list, one alert, and what operators do with them. Every change is emitted as `alert:update`. */
@ApiController('api/alerts', { tag: 'alerts', role: 'operator' })
export class AlertsController {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(ModelsPort) private readonly models: ModelsPort,
  ) {}

  @Get()
  @ApiRoute({
    summary: 'A page of alerts matching the filters: open first, newest first, or in the order of sort',
    ok: ref('AlertPage'),
    errors: [400, 401, 403],
  })
  @AlertListQueries()
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  list(@Query() query: Record<string, unknown>): Promise<Page<Alert>> {
    const { filters, order, limit, offset } = parseAlertQuery(query);
    return this.alerts.list(filters, limit, offset, order);
  }

  @Post('ack')
  @HttpCode(200)
  @ApiRoute({
    summary:
      'Acknowledge many alerts: the ids given, or every open alert matching the filter (skipped ones say why)',
    body: BODIES.bulkAlerts,
    ok: ref('BulkAlertResult'),
    errors: [400, 401, 403],
  })
  acknowledgeMany(@Body() body: unknown, @Caller() caller: TokenInfo): Promise<BulkAlertResult> {
    return this.alerts.bulk('acknowledge', parseBulkAlerts(body), caller.name);
  }

  @Post('resolve')
  @HttpCode(200)
  @ApiRoute({
    summary:
      'Resolve many alerts: the ids given, or every unresolved alert matching the filter (skipped ones say why)',
    body: BODIES.bulkAlerts,
    ok: ref('BulkAlertResult'),
    errors: [400, 401, 403],
  })
  resolveMany(@Body() body: unknown, @Caller() caller: TokenInfo): Promise<BulkAlertResult> {
    return this.alerts.bulk('resolve', parseBulkAlerts(body), caller.name);
  }

  @Get(':id')
  @ApiRoute({
    summary: 'One alert with its annotations and feedback',
    ok: ref('Alert'),
    errors: [400, 401, 403, 404],
  })
  get(@Param('id') id: string): Promise<Alert> {
    return this.alerts.get(recordId('alert id', id));
  }

  @Get(':id/neighbours')
  @ApiRoute({
    summary:
      "The alerts before and after this one in the list of the same filters and sort (the alert page's next / previous), and its place in it",
    ok: ref('AlertNeighbours'),
    errors: [400, 401, 403, 404],
  })
  @AlertListQueries()
  neighbours(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<AlertNeighbours> {
    const { filters, order } = parseAlertQuery({ ...query, limit: undefined, offset: undefined });
    return this.alerts.neighbours(recordId('alert id', id), filters, order);
  }

  @Get(':id/actions')
  @ApiRoute({
    summary:
      'Every acknowledge or resolve asked of the alert, oldest first, applied or refused (two operators at once: both kept)',
    ok: arrayOf('AlertAction'),
    errors: [400, 401, 403, 404],
  })
  actions(@Param('id') id: string): Promise<AlertAction[]> {
    return this.alerts.actions(recordId('alert id', id));
  }

  @Post(':id/ack')
  @HttpCode(200)
  @ApiRoute({ summary: 'Acknowledge an open alert', ok: ref('Alert'), errors: [400, 401, 403, 404, 409] })
  acknowledge(@Param('id') id: string, @Caller() caller: TokenInfo): Promise<Alert> {
    return this.alerts.acknowledge(recordId('alert id', id), caller.name);
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Resolve an open or acknowledged alert (final)',
    ok: ref('Alert'),
    errors: [400, 401, 403, 404, 409],
  })
  resolve(@Param('id') id: string, @Caller() caller: TokenInfo): Promise<Alert> {
    return this.alerts.resolve(recordId('alert id', id), caller.name);
  }

  @Post(':id/annotations')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Add a labelled note to an alert',
    body: BODIES.annotation,
    ok: ref('Alert'),
    errors: [400, 401, 403, 404],
  })
  annotate(@Param('id') id: string, @Body() body: unknown, @Caller() caller: TokenInfo): Promise<Alert> {
    const alertId = recordId('alert id', id);
    return this.alerts.annotate(alertId, parseAnnotation(body), caller.name);
  }

  @Post(':id/false-alarm')
  @HttpCode(200)
  @ApiRoute({
    summary:
      "Mark a false alarm, which resolves the alert; with teach (default false), also add its sound to the sensor's model as normal (reversible)",
    body: BODIES.falseAlarm,
    ok: ref('Alert'),
    errors: [400, 401, 403, 404, 409],
  })
  async falseAlarm(
    @Param('id') id: string,
    @Body() body: unknown,
    @Caller() caller: TokenInfo,
  ): Promise<Alert> {
    const alertId = recordId('alert id', id);
    return this.alerts.falseAlarm(alertId, parseFalseAlarm(body), caller.name, this.models);
  }
}
