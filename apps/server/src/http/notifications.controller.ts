import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import {
  DELIVERY_STATES,
  type ChannelTestResult,
  type NotificationChannel,
  type NotificationDelivery,
  type NotificationRule,
  type Page,
} from '@hark/protocol';
import { NotificationService } from '../notify/notification.service.js';
import { Roles } from './auth.guard.js';
import { ApiController, ApiRoute } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import { bodyObject, queryEnum, queryInt, recordId } from './validate.js';

/** Largest page of deliveries. */
export const MAX_DELIVERY_PAGE = 500;

/**
 * Notification channels and rules (admin: they hold addresses and secrets, which are written and never read
 * back) and the record of deliveries (operators see it on an alert's page).
 */
@ApiController('api/notifications', { tag: 'notifications', role: 'admin' })
export class NotificationsController {
  constructor(@Inject(NotificationService) private readonly notify: NotificationService) {}

  @Get('channels')
  @ApiRoute({
    summary: 'Every channel (secrets never shown: hasSecret)',
    ok: arrayOf('NotificationChannel'),
    errors: [401, 403],
  })
  channels(): Promise<NotificationChannel[]> {
    return this.notify.channels();
  }

  @Post('channels')
  @ApiRoute({
    summary: 'Create a channel: webhook, slack, teams, email or mqtt',
    body: BODIES.channel,
    ok: ref('NotificationChannel'),
    status: 201,
    errors: [400, 401, 403, 409],
  })
  createChannel(@Body() body: unknown): Promise<NotificationChannel> {
    return this.notify.createChannel(bodyObject(body));
  }

  @Get('channels/:id')
  @ApiRoute({ summary: 'One channel', ok: ref('NotificationChannel'), errors: [400, 401, 403, 404] })
  channel(@Param('id') id: string): Promise<NotificationChannel> {
    return this.notify.channel(recordId('channel id', id));
  }

  @Patch('channels/:id')
  @ApiRoute({
    summary: 'Change a channel; secret fields left out keep their stored value, null clears one',
    body: BODIES.channelPatch,
    ok: ref('NotificationChannel'),
    errors: [400, 401, 403, 404, 409],
  })
  updateChannel(@Param('id') id: string, @Body() body: unknown): Promise<NotificationChannel> {
    return this.notify.updateChannel(recordId('channel id', id), bodyObject(body));
  }

  @Delete('channels/:id')
  @ApiRoute({
    summary: 'Delete a channel and the rules that send to it (its deliveries stay recorded)',
    ok: ref('NotificationChannel'),
    errors: [400, 401, 403, 404],
  })
  async deleteChannel(@Param('id') id: string): Promise<NotificationChannel> {
    const channel = await this.notify.channel(recordId('channel id', id));
    await this.notify.deleteChannel(channel.id);
    return channel;
  }

  @Post('channels/:id/test')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Send a test message now (one attempt, recorded as a delivery without an alert)',
    ok: ref('ChannelTestResult'),
    errors: [400, 401, 403, 404],
  })
  test(@Param('id') id: string): Promise<ChannelTestResult> {
    return this.notify.testChannel(recordId('channel id', id));
  }

  @Get('rules')
  @ApiRoute({ summary: 'Every rule', ok: arrayOf('NotificationRule'), errors: [401, 403] })
  rules(): Promise<NotificationRule[]> {
    return this.notify.rules();
  }

  @Post('rules')
  @ApiRoute({
    summary: 'Create a rule: which sensors / label groups and severities go to a channel',
    body: BODIES.rule,
    ok: ref('NotificationRule'),
    status: 201,
    errors: [400, 401, 403],
  })
  createRule(@Body() body: unknown): Promise<NotificationRule> {
    return this.notify.createRule(bodyObject(body));
  }

  @Get('rules/:id')
  @ApiRoute({ summary: 'One rule', ok: ref('NotificationRule'), errors: [400, 401, 403, 404] })
  rule(@Param('id') id: string): Promise<NotificationRule> {
    return this.notify.rule(recordId('rule id', id));
  }

  @Patch('rules/:id')
  @ApiRoute({
    summary: 'Change a rule (fields left out keep their value)',
    body: BODIES.rulePatch,
    ok: ref('NotificationRule'),
    errors: [400, 401, 403, 404],
  })
  updateRule(@Param('id') id: string, @Body() body: unknown): Promise<NotificationRule> {
    return this.notify.updateRule(recordId('rule id', id), bodyObject(body));
  }

  @Delete('rules/:id')
  @ApiRoute({ summary: 'Delete a rule', ok: ref('NotificationRule'), errors: [400, 401, 403, 404] })
  async deleteRule(@Param('id') id: string): Promise<NotificationRule> {
    const rule = await this.notify.rule(recordId('rule id', id));
    await this.notify.deleteRule(rule.id);
    return rule;
  }

  @Get('deliveries')
  @Roles('operator')
  @ApiRoute({
    summary: 'Deliveries newest first: every message to a channel, sent or not, with its outcome',
    ok: ref('NotificationDeliveryPage'),
    errors: [400, 401, 403],
  })
  @ApiQuery({ name: 'alertId', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiQuery({ name: 'channelId', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiQuery({ name: 'state', required: false, schema: { type: 'string', enum: [...DELIVERY_STATES] } })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_DELIVERY_PAGE, default: 100 },
  })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  deliveries(@Query() query: Record<string, unknown>): Promise<Page<NotificationDelivery>> {
    const alertId = queryInt(query, 'alertId', 1, Number.MAX_SAFE_INTEGER);
    const channelId = queryInt(query, 'channelId', 1, Number.MAX_SAFE_INTEGER);
    const state = queryEnum(query, 'state', DELIVERY_STATES);
    return this.notify.deliveries(
      {
        ...(alertId !== undefined ? { alertId } : {}),
        ...(channelId !== undefined ? { channelId } : {}),
        ...(state !== undefined ? { state } : {}),
      },
      queryInt(query, 'limit', 1, MAX_DELIVERY_PAGE, 100) as number,
      queryInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0) as number,
    );
  }
}
