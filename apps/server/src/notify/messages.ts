/**
 * What each kind of channel is sent for an alert event (pure): the generic webhook's signed JSON body, a Slack
 * message, a Teams Adaptive Card message, an e-mail, an MQTT message.
 */
import type { Alert, NotificationEvent, NotificationSeverity } from '@hark/protocol';
import type { WebhookBody } from './webhook.notifier.js';
import { severityOf } from './rules.js';

/** One message's subject: the event, the alert as it was, and the delivery it belongs to. */
export interface MessageContext {
  event: NotificationEvent | 'test';
  alert: Alert;
  /** The sensor's display name (its id when it has none). */
  sensorName: string;
  /** The delivery's id: the same on every retry, for receivers to drop duplicates. */
  deliveryId: number;
  attempt: number;
  sentAt: number;
}

const WHAT: Record<MessageContext['event'], string> = {
  'alert.opened': 'opened',
  'alert.updated': 'updated',
  'alert.acknowledged': 'acknowledged',
  'alert.resolved': 'resolved',
  'alert.closed': 'signal ended',
  'alert.annotated': 'annotated',
  'alert.escalated': 'NOT ACKNOWLEDGED (escalated)',
  test: 'test message',
};

/** `critical anomaly alert #7 on Pump 1 (pump-1): opened` */
export function summary(m: MessageContext): string {
  const a = m.alert;
  const on = m.sensorName === a.sensorId ? a.sensorId : `${m.sensorName} (${a.sensorId})`;
  return `${severityOf(a)} ${a.kind} alert #${a.id} on ${on}: ${WHAT[m.event]}`;
}

/** Label / value lines of an alert, for the formats that show facts. */
export function facts(m: MessageContext): [string, string][] {
  const a = m.alert;
  const rows: [string, string][] = [
    ['Sensor', m.sensorName === a.sensorId ? a.sensorId : `${m.sensorName} (${a.sensorId})`],
    ['Severity', severityOf(a)],
    ['Kind', a.kind],
    ['State', a.state + (a.active ? ' (active)' : '')],
    ['Peak', `${a.peakScore.toFixed(2)}× threshold at ${new Date(a.peakAt).toISOString()}`],
    ['Started', new Date(a.start).toISOString()],
  ];
  if (a.acknowledgedBy) rows.push(['Acknowledged by', a.acknowledgedBy]);
  const note = a.annotations.at(-1);
  if (note) rows.push(['Last note', `${note.label}: ${note.text} (${note.author})`.slice(0, 500)]);
  return rows;
}

/** The generic webhook's body: the same as `HARK_WEBHOOK_URL` receivers get (`WebhookBody`). */
export function webhookBody(
  m: MessageContext,
): WebhookBody | (Omit<WebhookBody, 'event'> & { event: 'test' | 'alert.escalated' }) {
  return {
    event: m.event as WebhookBody['event'],
    deliveryId: m.deliveryId,
    attempt: m.attempt,
    alert: m.alert,
    sentAt: m.sentAt,
  };
}

/** A Slack incoming-webhook message (`text` for notifications, blocks for the channel). */
export function slackMessage(m: MessageContext): Record<string, unknown> {
  const text = `[hark] ${summary(m)}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(text)}*` } },
      {
        type: 'section',
        fields: facts(m).map(([k, v]) => ({
          type: 'mrkdwn',
          text: `*${escapeSlack(k)}*\n${escapeSlack(v)}`,
        })),
      },
    ],
  };
}

/** Slack's three escaped characters. */
const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A Teams message with an Adaptive Card, the body Teams' incoming webhooks (Workflows "post to a channel when
 * a webhook request is received") take.
 */
export function teamsMessage(m: MessageContext): Record<string, unknown> {
  const critical = severityOf(m.alert) === 'critical' || m.event === 'alert.escalated';
  return {
    type: 'message',
    summary: `[hark] ${summary(m)}`,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              size: 'Medium',
              weight: 'Bolder',
              wrap: true,
              color: critical ? 'Attention' : 'Warning',
              text: `[hark] ${summary(m)}`,
            },
            { type: 'FactSet', facts: facts(m).map(([title, value]) => ({ title, value })) },
          ],
        },
      },
    ],
  };
}

/** An e-mail: subject, plain text and HTML. */
export function emailMessage(m: MessageContext): { subject: string; text: string; html: string } {
  const rows = facts(m);
  const escape = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return {
    subject: `[hark] ${summary(m)}`,
    text: `${summary(m)}\n\n${rows.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`,
    html:
      `<p><strong>${escape(summary(m))}</strong></p><table>` +
      rows.map(([k, v]) => `<tr><th align="left">${escape(k)}</th><td>${escape(v)}</td></tr>`).join('') +
      '</table>',
  };
}

/** An MQTT message: its topic (placeholders filled) and JSON payload. */
export function mqttMessage(topicTemplate: string, m: MessageContext): { topic: string; payload: string } {
  const severity: NotificationSeverity = severityOf(m.alert);
  const values: Record<string, string> = {
    sensorId: m.alert.sensorId,
    event: m.event,
    kind: m.alert.kind,
    severity,
  };
  const topic = topicTemplate.replace(/\{(sensorId|event|kind|severity)\}/g, (_, k: string) => values[k]);
  return {
    topic,
    payload: JSON.stringify({
      event: m.event,
      deliveryId: m.deliveryId,
      severity,
      sensorName: m.sensorName,
      summary: summary(m),
      alert: m.alert,
      sentAt: m.sentAt,
    }),
  };
}
