/**
 * The side effects of notifications: one attempt to hand one message to one channel, over HTTP (webhook,
 * Slack, Teams), SMTP (nodemailer) or MQTT (mqtt.js). Each attempt either returns (delivered) or throws a
 * `SendError` that says whether trying again may help.
 */
import { connectAsync, type IClientOptions } from 'mqtt';
import { createTransport } from 'nodemailer';
import type { ChannelRecord } from '../store/notification.repository.js';
import {
  emailMessage,
  mqttMessage,
  slackMessage,
  teamsMessage,
  webhookBody,
  type MessageContext,
} from './messages.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature.js';

/** A failed attempt: `retryable` when a later one may succeed (network, timeouts, 429, 5xx, SMTP 4xx). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** Sends `m` to `channel` once, within `timeoutMs`. */
export async function send(channel: ChannelRecord, m: MessageContext, timeoutMs: number): Promise<void> {
  const c = channel.config;
  switch (channel.kind) {
    case 'webhook': {
      const body = JSON.stringify(webhookBody(m));
      const secret = channel.secret.secret ?? '';
      return postJson(c.url as string, body, timeoutMs, {
        'X-Hark-Event': m.event,
        'X-Hark-Delivery': String(m.deliveryId),
        [TIMESTAMP_HEADER]: String(m.sentAt),
        [SIGNATURE_HEADER]: signWebhook(secret, m.sentAt, body),
      });
    }
    case 'slack':
      return postJson(channel.secret.url ?? '', JSON.stringify(slackMessage(m)), timeoutMs, {}, true);
    case 'teams':
      return postJson(channel.secret.url ?? '', JSON.stringify(teamsMessage(m)), timeoutMs, {}, true);
    case 'email':
      return sendEmail(channel, m, timeoutMs);
    case 'mqtt':
      return publishMqtt(channel, m, timeoutMs);
  }
}

/**
 * One JSON POST. `secretUrl`: the URL is a secret (Slack, Teams), so errors name only its host. Network errors,
 * timeouts, 408, 429 and 5xx may be retried (honouring `Retry-After`); other answers may not.
 */
async function postJson(
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
  secretUrl = false,
): Promise<void> {
  const shown = secretUrl ? `${new URL(url).origin}/…` : url;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'hark-notify/1', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new SendError(`POST ${shown} failed: ${why}`, true);
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const message =
    `POST ${shown} answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`.trim();
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new SendError(
    retryable ? message : `${message} (fix the channel's settings, then test it)`,
    retryable,
    retryAfter(res.headers.get('retry-after')),
  );
}

/** `Retry-After` in ms (seconds or an HTTP date), or null. */
function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

async function sendEmail(channel: ChannelRecord, m: MessageContext, timeoutMs: number): Promise<void> {
  const c = channel.config as {
    host: string;
    port: number;
    security: string;
    user: string | null;
    from: string;
    to: string[];
  };
  const transport = createTransport({
    host: c.host,
    port: c.port,
    secure: c.security === 'tls',
    requireTLS: c.security === 'starttls',
    ignoreTLS: c.security === 'none',
    auth: c.user ? { user: c.user, pass: channel.secret.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const { subject, text, html } = emailMessage(m);
  try {
    await transport.sendMail({
      from: c.from,
      to: c.to,
      subject,
      text,
      html,
      headers: { 'X-Hark-Event': m.event, 'X-Hark-Delivery': String(m.deliveryId) },
    });
  } catch (err) {
    const e = err as Error & { responseCode?: number; code?: string };
    // SMTP 5xx answers are permanent (bad address, refused login); 4xx, connection and timeout errors pass.
    const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH';
    throw new SendError(`SMTP ${c.host}:${c.port}: ${e.message}`, !permanent);
  } finally {
    transport.close();
  }
}

/** CONNACK reasons that another try will not fix: bad user name or password, not authorised. */
const MQTT_REFUSED = new Set([4, 5, 134, 135]);

async function publishMqtt(channel: ChannelRecord, m: MessageContext, timeoutMs: number): Promise<void> {
  const c = channel.config as {
    url: string;
    topic: string;
    qos: 0 | 1 | 2;
    retain: boolean;
    username: string | null;
  };
  const { topic, payload } = mqttMessage(c.topic, m);
  const options: IClientOptions = {
    connectTimeout: timeoutMs,
    reconnectPeriod: 0,
    clientId: `hark-${process.pid}-${m.deliveryId}-${m.attempt}`,
    ...(c.username ? { username: c.username, password: channel.secret.password ?? '' } : {}),
  };
  let client: Awaited<ReturnType<typeof connectAsync>>;
  try {
    client = await connectAsync(c.url, options, false);
  } catch (err) {
    const e = err as Error & { code?: number | string };
    throw new SendError(
      `MQTT connect to ${c.url}: ${e.message}`,
      !(typeof e.code === 'number' && MQTT_REFUSED.has(e.code)),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([client.publishAsync(topic, payload, { qos: c.qos, retain: c.retain }), timeout]);
  } catch (err) {
    throw new SendError(`MQTT publish to ${c.url} topic '${topic}': ${(err as Error).message}`, true);
  } finally {
    clearTimeout(timer);
    await client.endAsync(true).catch(() => undefined);
  }
}
