import {
  BadRequestException,
  Body,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UploadedFiles,
  UseInterceptors,
} from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { FilesInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import {
  ENROL_MAX_SECONDS,
  ENROL_MIN_SECONDS,
  type ModelBurnIn,
  type ModelStatus,
  type ModelVersion,
  type TokenInfo,
} from '@hark/protocol';
import { AlertService } from '../alerts/alert.service.js';
import { ModelsPort, type FeedbackInfo } from './ports.js';
import { Caller, Roles } from './auth.guard.js';
import { parseActivate, parseEnrolSeconds, parseFeedbackBody } from './dto.js';
import { ApiController, ApiErrors, ApiRoute } from './openapi.decorators.js';
import { BODIES, arrayOf, ref } from './schemas.js';
import type { MulterFile } from './types.js';
import { diskUploadStorage } from './upload-storage.js';
import { recordId, sensorId } from './validate.js';

/** Most WAV files in one upload (their sizes are bounded by the server's upload limits). */
export const UPLOAD_MAX_FILES = 50;

/** `?activate=now`: the new version replaces the model at once (no shadow trial). */
const ActivateQuery = () =>
  ApiQuery({
    name: 'activate',
    required: false,
    description:
      "'now': the new version replaces the model at once, skipping the shadow trial (an enrolment during " +
      'which an alert was open still goes to shadow); left out: it runs in shadow beside the active model ' +
      'until promoted (POST .../models/:version/activate). A sensor without a model takes it at once.',
    schema: { type: 'string', enum: ['now'] },
  });

/**
 * A sensor's model: status, enrolment from the live stream, upload of normal clips, the numbered versions
 * (activate = roll back or forward, or promote a shadow; discard a shadow), and feedback.
 */
@ApiController('api/sensors/:id', { tag: 'models', role: 'operator' })
export class ModelsController {
  constructor(
    @Inject(ModelsPort) private readonly models: ModelsPort,
    @Inject(AlertService) private readonly alerts: AlertService,
  ) {}

  @Get('model')
  @ApiRoute({
    summary: "The sensor's model: method, threshold, training, feedback, fit progress",
    ok: ref('ModelStatus'),
    errors: [400, 401, 403],
  })
  status(@Param('id') id: string): ModelStatus {
    return this.models.status(sensorId(id));
  }

  @Post('enroll')
  @HttpCode(202)
  @Roles('admin')
  @ApiRoute({
    summary:
      'Record normal sound from the live stream for some seconds, then fit a new model version (shadow first)',
    body: BODIES.seconds(ENROL_MIN_SECONDS, ENROL_MAX_SECONDS),
    ok: ref('ModelStatus'),
    status: 202,
    description: 'recording started',
    errors: [400, 401, 403, 409],
  })
  @ActivateQuery()
  enrol(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Caller() caller: TokenInfo,
  ): ModelStatus {
    const seconds = parseEnrolSeconds(body);
    const activateNow = parseActivate(query);
    return this.models.enrol(sensorId(id), seconds, caller.name, { activateNow });
  }

  @Post('model')
  @HttpCode(202)
  @Roles('admin')
  @UseInterceptors(
    FilesInterceptor('files', UPLOAD_MAX_FILES, {
      // Streamed to temporary files; the engine enforces the per-file and total limits with clear 413s.
      storage: diskUploadStorage,
      limits: { files: UPLOAD_MAX_FILES },
      defParamCharset: 'utf8',
    }),
  )
  @ApiOperation({
    summary:
      'Upload normal WAV clips (multipart field `files`, several) and fit a new model version on them (shadow first)',
  })
  @ActivateQuery()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: BODIES.upload })
  @ApiResponse({ status: 202, description: 'clips accepted, fitting', schema: ref('ModelStatus') })
  @ApiErrors(400, 401, 403, 409, 413, 422)
  async upload(
    @Param('id') id: string,
    @UploadedFiles() files: MulterFile[] | undefined,
    @Query() query: Record<string, unknown>,
    @Caller() caller: TokenInfo,
  ): Promise<ModelStatus> {
    try {
      sensorId(id);
      const activateNow = parseActivate(query);
      if (!files || files.length === 0) {
        throw new BadRequestException(
          "files (none) must be one or more WAV files in the multipart field 'files'",
        );
      }
      return await this.models.upload(
        id,
        files.map((f) => ({ name: f.originalname, path: f.path, size: f.size })),
        caller.name,
        { activateNow },
      );
    } finally {
      // Whatever the service did not move into the model's folder (all of them when it refused the upload).
      await Promise.all((files ?? []).map((f) => rm(f.path, { force: true })));
    }
  }

  @Get('models')
  @ApiRoute({
    summary:
      "The sensor's kept model versions, newest first: training summary, active and shadow flags, trials",
    ok: arrayOf('ModelVersion'),
    errors: [400, 401, 403],
  })
  versions(@Param('id') id: string): Promise<ModelVersion[]> {
    return this.models.versions(sensorId(id));
  }

  @Post('models/:version/activate')
  @HttpCode(200)
  @Roles('admin')
  @ApiRoute({
    summary: 'Make a kept version the model in use: roll back or forward, or promote the shadow on trial',
    ok: ref('ModelVersion'),
    errors: [400, 401, 403, 404, 409],
  })
  activate(
    @Param('id') id: string,
    @Param('version') version: string,
    @Caller() caller: TokenInfo,
  ): Promise<ModelVersion> {
    return this.models.activate(sensorId(id), recordId('version', version), caller.name);
  }

  @Post('models/:version/discard')
  @HttpCode(200)
  @Roles('admin')
  @ApiRoute({
    summary: 'End the shadow trial of a version without using it (the version is kept)',
    ok: ref('ModelVersion'),
    errors: [400, 401, 403, 404, 409],
  })
  discard(
    @Param('id') id: string,
    @Param('version') version: string,
    @Caller() caller: TokenInfo,
  ): Promise<ModelVersion> {
    return this.models.discard(sensorId(id), recordId('version', version), caller.name);
  }

  @Get('models/:version/burn-in')
  @ApiRoute({
    summary:
      "A version's live burn-in: collecting its first windows (n of target), applied (the threshold's factor, " +
      'the tail fitted, windows left out as faults), reverted or skipped',
    ok: ref('ModelBurnIn'),
    errors: [400, 401, 403, 404],
  })
  burnIn(@Param('id') id: string, @Param('version') version: string): Promise<ModelBurnIn> {
    return this.models.burnIn(sensorId(id), recordId('version', version));
  }

  @Post('models/:version/burn-in/revert')
  @HttpCode(200)
  @Roles('admin')
  @ApiRoute({
    summary:
      'Undo an applied burn-in: the version scores against its fitted threshold again (who and when recorded)',
    ok: ref('ModelBurnIn'),
    errors: [400, 401, 403, 404, 409],
  })
  revertBurnIn(
    @Param('id') id: string,
    @Param('version') version: string,
    @Caller() caller: TokenInfo,
  ): Promise<ModelBurnIn> {
    return this.models.revertBurnIn(sensorId(id), recordId('version', version), caller.name);
  }

  @Post('models/:version/burn-in/restart')
  @HttpCode(200)
  @Roles('admin')
  @ApiRoute({
    summary:
      'Burn the active version in again: collect its next windows on the fitted threshold, then apply a new factor',
    ok: ref('ModelBurnIn'),
    errors: [400, 401, 403, 404, 409],
  })
  restartBurnIn(
    @Param('id') id: string,
    @Param('version') version: string,
    @Caller() caller: TokenInfo,
  ): Promise<ModelBurnIn> {
    return this.models.restartBurnIn(sensorId(id), recordId('version', version), caller.name);
  }

  @Get('feedback')
  @ApiRoute({
    summary: 'Alerts taught to the model as normal, and their reversals',
    ok: arrayOf('Feedback'),
    errors: [400, 401, 403],
  })
  feedback(@Param('id') id: string): Promise<FeedbackInfo[]> {
    return this.models.listFeedback(sensorId(id));
  }

  @Post('feedback')
  @HttpCode(200)
  @Roles('admin')
  @ApiRoute({
    summary: 'Teach an alert of this sensor to its model as normal (adds it to the memory bank)',
    body: BODIES.feedback,
    ok: ref('Feedback'),
    errors: [400, 401, 403, 404, 409],
  })
  async teach(
    @Param('id') id: string,
    @Body() body: unknown,
    @Caller() caller: TokenInfo,
  ): Promise<FeedbackInfo> {
    const alertId = parseFeedbackBody(body);
    const alert = await this.alerts.get(alertId);
    if (alert.sensorId !== sensorId(id)) {
      throw new BadRequestException(
        `alertId (${alertId}) is an alert of sensor '${alert.sensorId}', not '${id}'`,
      );
    }
    const feedback = await this.models.teach(alertId, caller.name);
    await this.alerts.publish(await this.alerts.get(alertId));
    return feedback;
  }

  @Delete('feedback/:feedbackId')
  @Roles('admin')
  @ApiRoute({
    summary: 'Revert taught feedback (removes it from the memory bank)',
    ok: ref('Feedback'),
    errors: [400, 401, 403, 404, 409],
  })
  async revert(
    @Param('id') id: string,
    @Param('feedbackId') feedbackId: string,
    @Caller() caller: TokenInfo,
  ): Promise<FeedbackInfo> {
    const feedback = await this.models.revert(sensorId(id), recordId('feedbackId', feedbackId), caller.name);
    const alert = await this.alerts.find(feedback.alertId);
    if (alert) await this.alerts.publish(alert);
    return feedback;
  }
}
