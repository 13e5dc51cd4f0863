import { Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { AlertSpectrogram, MediaTicketUrls, TokenInfo } from '@hark/protocol';
import { AlertMediaStore } from '../alerts/alert-media.js';
import { MEDIA_ROUTES, MediaTickets } from '../auth/media-tickets.js';
import { PICTURE_KINDS } from '../alerts/pictures.js';
import { HarkStore } from '../store/store.js';
import { Caller, MediaTicket } from './auth.guard.js';
import { parsePictureKind } from './dto.js';
import { ApiController, ApiErrors, ApiRoute } from './openapi.decorators.js';
import { parseRange } from './range.js';
import { ref } from './schemas.js';
import type { HttpResponse } from './types.js';
import { recordId } from './validate.js';

/**
 * What was kept of an alert: its audio clip (with byte ranges, so `<audio>` can seek), pictures and the
 * spectrogram data. Since `<audio>` and `<img>` cannot send headers, their URLs carry a short-lived
 * `?ticket=` from `POST .../media-tickets` (bound to the alert and the route), never a token.
 */
@ApiController('api/alerts/:id', { tag: 'alerts', role: 'operator', mediaTicket: true })
export class AlertMediaController {
  constructor(
    @Inject(HarkStore) private readonly store: HarkStore,
    @Inject(AlertMediaStore) private readonly media: AlertMediaStore,
    @Inject(MediaTickets) private readonly tickets: MediaTickets,
  ) {}

  @Post('media-tickets')
  @HttpCode(200)
  @ApiRoute({
    summary: "URLs of the alert's media with short-lived tickets, for <audio src> and <img src>",
    ok: ref('MediaTicketUrls'),
    errors: [400, 401, 403, 404],
  })
  async mediaTickets(@Param('id') id: string, @Caller() caller: TokenInfo): Promise<MediaTicketUrls> {
    const alertId = await this.requireAlert(id);
    const now = this.tickets.now();
    const urls = Object.fromEntries(
      MEDIA_ROUTES.map((route) => [
        route,
        `/api/alerts/${alertId}/${route}?ticket=${this.tickets.issue(alertId, route, caller.id, now).ticket}`,
      ]),
    ) as Record<(typeof MEDIA_ROUTES)[number], string>;
    return { alertId, expiresAt: now + this.tickets.ttlMs, ...urls };
  }

  @Get('audio')
  @MediaTicket('audio')
  @ApiOperation({ summary: "The alert's audio clip (16-bit WAV; HTTP Range supported)" })
  @ApiProduces('audio/wav')
  @ApiResponse({ status: 200, description: 'the whole clip', content: { 'audio/wav': {} } })
  @ApiResponse({ status: 206, description: 'the requested byte range', content: { 'audio/wav': {} } })
  @ApiErrors(400, 401, 403, 404)
  async audio(
    @Param('id') id: string,
    @Headers('range') range: string | undefined,
    @Res() res: HttpResponse,
  ): Promise<void> {
    const alertId = await this.requireAlert(id);
    const wav = await this.media.readClip(alertId);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    const answer = parseRange(range, wav.length);
    if (answer.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${wav.length}`);
      res.status(416).json({
        statusCode: 416,
        error: 'Range Not Satisfiable',
        message: `range '${range}' is outside the clip's ${wav.length} bytes`,
      });
      return;
    }
    if (answer.kind === 'full') {
      sendBytes(res, 200, 'audio/wav', wav);
      return;
    }
    res.setHeader('Content-Range', `bytes ${answer.start}-${answer.end}/${wav.length}`);
    sendBytes(res, 206, 'audio/wav', wav.subarray(answer.start, answer.end + 1));
  }

  @Get('picture')
  @MediaTicket('picture')
  @ApiOperation({ summary: "A PNG of the alert's spectrogram, anomaly map, or both overlaid" })
  @ApiQuery({
    name: 'kind',
    required: false,
    schema: { type: 'string', enum: [...PICTURE_KINDS], default: 'spectrogram' },
  })
  @ApiProduces('image/png')
  @ApiResponse({ status: 200, content: { 'image/png': {} } })
  @ApiErrors(400, 401, 403, 404)
  async picture(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res() res: HttpResponse,
  ): Promise<void> {
    const kind = parsePictureKind(query);
    const alertId = await this.requireAlert(id);
    const png = await this.media.picture(alertId, kind);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    sendBytes(res, 200, 'image/png', png);
  }

  @Get('spectrogram')
  @MediaTicket('spectrogram')
  @ApiRoute({
    summary: "The clip's log-mel spectrogram and anomaly map, quantised like the live columns",
    ok: ref('AlertSpectrogram'),
    errors: [400, 401, 403, 404],
  })
  async spectrogram(@Param('id') id: string): Promise<AlertSpectrogram> {
    return this.media.readSpectrogram(await this.requireAlert(id));
  }

  private async requireAlert(id: string): Promise<number> {
    return (await this.store.alerts.require(recordId('alert id', id))).id;
  }
}

/** Sends bytes as they are (no ETag or freshness logic, which would not fit partial answers). */
function sendBytes(res: HttpResponse, status: number, type: string, bytes: Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
