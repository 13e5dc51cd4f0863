import type { Alert } from '@hark/protocol';

/** What a webhook tells: the alert's lifecycle, as the receiver sees it. */
export type WebhookEvent =
  | 'alert.opened'
  | 'alert.updated'
  | 'alert.acknowledged'
  | 'alert.resolved'
  | 'alert.closed'
  | 'alert.annotated'
  /** A repeat folded into the alert (`count` grew; it is active again). */
  | 'alert.repeated'
  /** Its severity rose to critical (`alert.escalated` is a notification rule's escalation, not this). */
  | 'alert.critical';

/** The parts of an alert whose change is worth a webhook (peak and box changes while active are not). */
export interface AlertSnapshot {
  state: Alert['state'];
  active: boolean;
  annotations: number;
  feedback: string;
  clip: boolean;
  count: number;
  severity: Alert['severity'];
}

export const snapshotOf = (a: Alert): AlertSnapshot => ({
  state: a.state,
  active: a.active,
  annotations: a.annotations.length,
  feedback: a.feedback ? `${a.feedback.id}:${a.feedback.taught}` : '',
  clip: a.clip.available,
  count: a.count,
  severity: a.severity,
});

/**
 * The webhook event for an `alert:update`, given the last snapshot sent (undefined when unknown, e.g. after a
 * restart), or null when nothing a receiver cares about changed. One event per update, by priority: a repeat,
 * state, end of the signal, a new annotation, escalation, anything else.
 */
export function classifyUpdate(prev: AlertSnapshot | undefined, next: Alert): WebhookEvent | null {
  if (!prev) return 'alert.updated';
  if (next.count > prev.count) return 'alert.repeated';
  if (prev.state !== next.state) {
    if (next.state === 'acknowledged') return 'alert.acknowledged';
    if (next.state === 'resolved') return 'alert.resolved';
    return 'alert.updated';
  }
  if (prev.active && !next.active) return 'alert.closed';
  if (next.annotations.length > prev.annotations) return 'alert.annotated';
  if (next.severity === 'critical' && prev.severity !== 'critical') return 'alert.critical';
  const now = snapshotOf(next);
  if (now.feedback !== prev.feedback || now.clip !== prev.clip || now.active !== prev.active)
    return 'alert.updated';
  return null;
}
