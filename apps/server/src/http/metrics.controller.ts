import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HarkMetrics } from '../metrics/hark.metrics.js';
import type { HttpResponse } from './types.js';

/** `GET /metrics`: Prometheus text, without a token (restrict it at the network level if needed). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(HarkMetrics) private readonly metrics: HarkMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, content: { 'text/plain': {} } })
  async text(@Res() res: HttpResponse): Promise<void> {
    const { contentType, body } = await this.metrics.text();
    res.statusCode = 200;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  }
}
