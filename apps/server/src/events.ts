import { EventEmitter } from 'node:events';
import type { Alert, FitProgressEvent } from '@hark/protocol';

/**
 * What happens inside the server for listeners off the data path: alert changes (webhooks) and fit progress
 * (the fit record in the store, the dashboards). The data path itself hands on directly: columns, scores,
 * alerts and status go to the live hub from the step that makes them.
 */
export interface HarkEventMap {
  alert: [Alert];
  'alert:update': [Alert];
  'model:progress': [FitProgressEvent];
}

/** The server's in-process event bus (one per server). */
export class HarkEvents extends EventEmitter<HarkEventMap> {
  constructor() {
    super();
    this.setMaxListeners(100);
  }
}
