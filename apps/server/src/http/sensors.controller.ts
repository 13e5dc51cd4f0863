import {
  Body,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import {
  SNOOZE_MAX_SECONDS,
  SNOOZE_MIN_SECONDS,
  type ScorePoint,
  type SensorStatus,
  type TokenInfo,
} from '@hark/protocol';
import { SensorsPort } from './ports.js';
import { HarkStore } from '../store/store.js';
import { Caller, Roles } from './auth.guard.js';
import { parsePurge, parseScoreQuery, parseSeconds, parseSensorPatch } from './dto.js';
import { ApiController, ApiErrors, ApiRoute } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import { sensorId } from './validate.js';

/** Sensors: their live status, names and labels, score history and snoozes. */
@ApiController('api/sensors', { tag: 'sensors', role: 'operator' })
export class SensorsController {
  constructor(
    @Inject(SensorsPort) private readonly sensors: SensorsPort,
    @Inject(HarkStore) private readonly store: HarkStore,
  ) {}

  @Get()
  @ApiRoute({
    summary: 'Every sensor ever seen, with its live status',
    ok: arrayOf('SensorStatus'),
    errors: [401, 403],
  })
  list(): Promise<SensorStatus[]> {
    return this.sensors.list();
  }

  @Get(':id')
  @ApiRoute({ summary: "One sensor's status", ok: ref('SensorStatus'), errors: [400, 401, 403, 404] })
  async get(@Param('id') id: string): Promise<SensorStatus> {
    return await this.require(id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiRoute({
    summary:
      'Rename, relabel (labels are replaced, not merged) and / or set the severity thresholds of a sensor',
    body: BODIES.sensorPatch,
    ok: ref('SensorStatus'),
    errors: [400, 401, 403, 404],
  })
  async update(@Param('id') id: string, @Body() body: unknown): Promise<SensorStatus> {
    const patch = parseSensorPatch(body);
    await this.require(id);
    return this.sensors.update(id, patch);
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({
    summary:
      'Delete a sensor: its connections are closed with the reason, its rings freed, and it leaves the list; ' +
      'its alerts, scores and history are kept for the record and its model and versions moved to ' +
      'DATA/retired/, unless purge=true. Connecting again registers it anew. Tokens bound to it stay bound ' +
      '(revoke them to keep the device away).',
  })
  @ApiQuery({
    name: 'purge',
    required: false,
    description:
      "'true': also remove its alerts (with clips, pictures, annotations, feedback), scores, spectrogram " +
      "history and models. Left out or 'false': keep them.",
    schema: { type: 'string', enum: ['true', 'false'] },
  })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors(400, 401, 403, 404, 409)
  async remove(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Caller() caller: TokenInfo,
  ): Promise<void> {
    const purge = parsePurge(query);
    if (!(await this.sensors.remove(sensorId(id), { purge, by: caller.name })))
      throw new NotFoundException(`sensor '${id}' not found`);
  }

  @Get(':id/scores')
  @ApiRoute({
    summary: 'Score history (normalised, 1 = threshold); peaks kept when downsampled to limit',
    ok: arrayOf('ScorePoint'),
    errors: [400, 401, 403, 404],
  })
  @ApiQuery({ name: 'from', required: false, description: 'ms since the epoch', schema: { type: 'integer' } })
  @ApiQuery({ name: 'to', required: false, description: 'ms since the epoch', schema: { type: 'integer' } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 20000 } })
  async scores(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<ScorePoint[]> {
    const range = parseScoreQuery(query);
    await this.require(id);
    return this.store.scores.range(id, range);
  }

  @Post(':id/snooze')
  @HttpCode(200)
  @ApiRoute({
    summary: "Mute a sensor's alerts for some seconds",
    body: BODIES.seconds(SNOOZE_MIN_SECONDS, SNOOZE_MAX_SECONDS),
    ok: ref('SensorStatus'),
    errors: [400, 401, 403, 404],
  })
  async snooze(@Param('id') id: string, @Body() body: unknown): Promise<SensorStatus> {
    const seconds = parseSeconds(body, SNOOZE_MIN_SECONDS, SNOOZE_MAX_SECONDS);
    await this.require(id);
    return this.sensors.snooze(id, Date.now() + Math.round(seconds * 1000));
  }

  @Delete(':id/snooze')
  @ApiRoute({ summary: 'Lift a snooze', ok: ref('SensorStatus'), errors: [400, 401, 403, 404] })
  async unsnooze(@Param('id') id: string): Promise<SensorStatus> {
    await this.require(id);
    return this.sensors.snooze(id, null);
  }

  private async require(id: string): Promise<SensorStatus> {
    const status = await this.sensors.status(sensorId(id));
    if (!status) throw new NotFoundException(`sensor '${id}' not found`);
    return status;
  }
}
