/** The REST client (`/api`, bearer token). One method per path of apps/server/DESIGN.md that the dashboard uses. */
import type {
  Alert,
  AlertSpectrogram,
  AnnotationLabel,
  ApiError,
  ChannelTestResult,
  Me,
  ModelStatus,
  NotificationChannel,
  NotificationChannelInput,
  NotificationDelivery,
  NotificationRule,
  NotificationRuleInput,
  Page,
  ScorePoint,
  SensorHistory,
  SensorTrends,
  SensorStatus,
} from './contracts';
import { alertFilterQuery, type AlertFilter } from './alert-query';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: ApiError | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  constructor(
    private readonly token: string,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private readonly base = '',
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
    };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await this.fetchImpl(this.base + path, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const err = json as ApiError | null;
      const message = err?.message ?? (text || res.statusText);
      throw new HttpError(
        res.status,
        `${method} ${path}: ${res.status} ${Array.isArray(message) ? message.join('; ') : message}`,
        err,
      );
    }
    return json as T;
  }

  me(): Promise<Me> {
    return this.request('GET', '/api/me');
  }

  sensors(): Promise<SensorStatus[]> {
    return this.request('GET', '/api/sensors');
  }

  sensor(id: string): Promise<SensorStatus> {
    return this.request('GET', `/api/sensors/${encodeURIComponent(id)}`);
  }

  scores(id: string, from: number, to?: number, limit?: number): Promise<ScorePoint[]> {
    return this.request('GET', `/api/sensors/${encodeURIComponent(id)}/scores?${qs({ from, to, limit })}`);
  }

  /** The stored spectrogram and anomaly map over `[from, to)`, at most `maxColumns` columns, with the alerts. */
  history(id: string, from: number, to: number, maxColumns: number): Promise<SensorHistory> {
    return this.request(
      'GET',
      `/api/sensors/${encodeURIComponent(id)}/history?${qs({ from, to, maxColumns })}`,
    );
  }

  /** Daily score percentiles and alert counts of the last `days` UTC days. */
  trends(id: string, days: number): Promise<SensorTrends> {
    return this.request('GET', `/api/sensors/${encodeURIComponent(id)}/trends?${qs({ days })}`);
  }

  snooze(id: string, seconds: number): Promise<SensorStatus> {
    return this.request('POST', `/api/sensors/${encodeURIComponent(id)}/snooze`, { seconds });
  }

  unsnooze(id: string): Promise<SensorStatus> {
    return this.request('DELETE', `/api/sensors/${encodeURIComponent(id)}/snooze`);
  }

  model(id: string): Promise<ModelStatus> {
    return this.request('GET', `/api/sensors/${encodeURIComponent(id)}/model`);
  }

  enroll(id: string, seconds: number): Promise<ModelStatus> {
    return this.request('POST', `/api/sensors/${encodeURIComponent(id)}/enroll`, { seconds });
  }

  uploadModel(id: string, files: readonly File[]): Promise<ModelStatus> {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    return this.request('POST', `/api/sensors/${encodeURIComponent(id)}/model`, form);
  }

  alerts(filter: AlertFilter): Promise<Page<Alert>> {
    return this.request('GET', `/api/alerts?${new URLSearchParams(alertFilterQuery(filter))}`);
  }

  alert(id: number): Promise<Alert> {
    return this.request('GET', `/api/alerts/${id}`);
  }

  ack(id: number): Promise<Alert> {
    return this.request('POST', `/api/alerts/${id}/ack`);
  }

  resolve(id: number): Promise<Alert> {
    return this.request('POST', `/api/alerts/${id}/resolve`);
  }

  annotate(id: number, label: AnnotationLabel, text: string): Promise<Alert> {
    return this.request('POST', `/api/alerts/${id}/annotations`, { label, text });
  }

  falseAlarm(id: number, teach: boolean, text?: string): Promise<Alert> {
    return this.request('POST', `/api/alerts/${id}/false-alarm`, text ? { teach, text } : { teach });
  }

  alertSpectrogram(id: number): Promise<AlertSpectrogram> {
    return this.request('GET', `/api/alerts/${id}/spectrogram`);
  }

  channels(): Promise<NotificationChannel[]> {
    return this.request('GET', '/api/notifications/channels');
  }

  createChannel(input: NotificationChannelInput): Promise<NotificationChannel> {
    return this.request('POST', '/api/notifications/channels', input);
  }

  updateChannel(id: number, input: NotificationChannelInput): Promise<NotificationChannel> {
    return this.request('PATCH', `/api/notifications/channels/${id}`, input);
  }

  deleteChannel(id: number): Promise<NotificationChannel> {
    return this.request('DELETE', `/api/notifications/channels/${id}`);
  }

  testChannel(id: number): Promise<ChannelTestResult> {
    return this.request('POST', `/api/notifications/channels/${id}/test`);
  }

  rules(): Promise<NotificationRule[]> {
    return this.request('GET', '/api/notifications/rules');
  }

  createRule(input: NotificationRuleInput): Promise<NotificationRule> {
    return this.request('POST', '/api/notifications/rules', input);
  }

  updateRule(id: number, input: NotificationRuleInput): Promise<NotificationRule> {
    return this.request('PATCH', `/api/notifications/rules/${id}`, input);
  }

  deleteRule(id: number): Promise<NotificationRule> {
    return this.request('DELETE', `/api/notifications/rules/${id}`);
  }

  /** Deliveries of one alert, newest first. */
  deliveries(alertId: number): Promise<Page<NotificationDelivery>> {
    return this.request('GET', `/api/notifications/deliveries?${qs({ alertId, limit: 100 })}`);
  }

  /** Download links (a link cannot send a header: the token goes in the query). */
  alertsCsvUrl(filter: AlertFilter): string {
    const { limit: _l, offset: _o, ...filters } = alertFilterQuery(filter);
    return `${this.base}/api/export/alerts.csv?${new URLSearchParams({ ...filters, token: this.token })}`;
  }

  bundleUrl(id: number): string {
    return `${this.base}/api/export/alerts/${id}/bundle.zip?token=${encodeURIComponent(this.token)}`;
  }

  /** The printable shift report of `[from, to]`, times in `tz`. */
  shiftReportUrl(from: number, to: number, tz: string): string {
    return `${this.base}/api/export/shift-report?${qs({ from, to, tz, token: this.token })}`;
  }

  /** For `<audio src>`: media URLs take the token in the query. */
  audioUrl(id: number): string {
    return `${this.base}/api/alerts/${id}/audio?token=${encodeURIComponent(this.token)}`;
  }
}

function qs(params: Record<string, number | string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}
