import { EventEmitter } from 'node:events';
import type { Alert, FitProgressEvent } from '@hark/protocol';

/**
 * What happens inside the server for listeners off the data path: alert changes (webhooks), fit progress
 * (the fit record in the store, the dashboards), model swaps and sensor-record changes (the other instances of
 * a cluster). The data path itself hands on directly: columns, scores,
 * alerts and status go to the live hub from the step that makes them.
 */
export interface HarkEventMap {
  alert: [Alert];
  'alert:update': [Alert];
  'model:progress': [FitProgressEvent];
  /** A sensor's model in use or on trial changed here (see `ModelRegistry`). */
  'model:changed': [ModelChanged];
  /** An admin changed a sensor's stored record here (name, labels, thresholds, snooze) or deleted it. */
  'sensor:changed': [SensorChanged];
  /** A live burn-in's record changed here: applied, refitted, reverted, restarted (models/burn-in.service.ts). */
  'burn-in:changed': [BurnInChanged];
}

export interface BurnInChanged {
  sensorId: string;
  version: number;
}

export interface SensorChanged {
  sensorId: string;
}

export interface ModelChanged {
  sensorId: string;
  /** The version in use now (null: no model), and the one on trial beside it. */
  version: number | null;
  shadowVersion: number | null;
}

/** The server's in-process event bus (one per server). */
export class HarkEvents extends EventEmitter<HarkEventMap> {
  constructor() {
    super();
    this.setMaxListeners(100);
  }
}
