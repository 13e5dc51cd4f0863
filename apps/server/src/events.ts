import { EventEmitter } from 'node:events';
import type { Alert, ColumnsEvent, FitProgressEvent, ScoreEvent, SensorStatus } from '@hark/protocol';

/** What happens inside the server, for the `/live` gateway, webhooks and metrics to pass on. */
export interface HarkEventMap {
  alert: [Alert];
  'alert:update': [Alert];
  'sensor:status': [SensorStatus];
  'model:progress': [FitProgressEvent];
  columns: [ColumnsEvent];
  score: [ScoreEvent];
}

/** The server's in-process event bus (one per server). */
export class HarkEvents extends EventEmitter<HarkEventMap> {
  constructor() {
    super();
    this.setMaxListeners(100);
  }
}
