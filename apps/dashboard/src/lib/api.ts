/** The REST client (`/api`, bearer token). One method per path of apps/server/DESIGN.md that the dashboard uses. */
import type {
  Alert,
  AlertAction,
  AlertNeighbours,
  AlertSpectrogram,
  AnnotationLabel,
  ApiError,
  BulkAlertResult,
  ChannelTestResult,
  FeedbackInfo,
  Health,
  Me,
  MediaTicketUrls,
  ModelBurnIn,
  ModelStatus,
  ModelVersion,
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
import { alertFilterQuery, listQuery, type AlertFilter } from './alert-query';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: ApiError | null = null,
    /** A 503's `Retry-After`, s (null when absent or an HTTP date). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * What an operator reads of a 503 (the server's store cannot be reached or refuses writes: nothing was done). A
 * change (any method but GET) was not applied and may be retried; the banner says when the store is back.
 */
export function unavailableText(method: string, retryAfter: number | null): string {
  const when = retryAfter !== null ? `in ${retryAfter} s` : 'in a few seconds';
  return method === 'GET'
    ? `Could not load: the server cannot read its storage right now (see the notice at the top). Retry ${when}.`
    : `Not applied: the server cannot store changes right now, so nothing was changed (see the notice at the ` +
        `top). Retry ${when}.`;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  private readonly unavailableListeners = new Set<(e: HttpError, method: string) => void>();

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
      if (res.status === 503) {
        const seconds = Number(res.headers.get('Retry-After') ?? NaN);
        const retryAfter = Number.isInteger(seconds) && seconds >= 0 ? seconds : null;
        const e = new HttpError(503, unavailableText(method, retryAfter), err, retryAfter);
        for (const l of this.unavailableListeners) l(e, method);
        throw e;
      }
      const message = err?.message ?? (text || res.statusText);
      throw new HttpError(
        res.status,
        `${method} ${path}: ${res.status} ${Array.isArray(message) ? message.join('; ') : message}`,
        err,
      );
    }
    return json as T;
  }

  /** Calls `l` on every 503 answer (before the request's promise rejects); returns the unsubscribe. */
  onUnavailable(l: (e: HttpError, method: string) => void): () => void {
    this.unavailableListeners.add(l);
    return () => this.unavailableListeners.delete(l);
  }

  /** `GET /api/health` (no token needed; sent anyway): whether the store and the cluster link work. */
  health(): Promise<Health> {
    return this.request('GET', '/api/health');
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

  /** Renames and / or relabels a sensor (admin; labels are replaced, not merged). */
  updateSensor(id: string, patch: { name?: string; labels?: Record<string, string> }): Promise<SensorStatus> {
    return this.request('PATCH', `/api/sensors/${encodeURIComponent(id)}`, patch);
  }

  snooze(id: string, seconds: number): Promise<SensorStatus> {
    return this.request('POST', `/api/sensors/${encodeURIComponent(id)}/snooze`, { seconds });
  }

  unsnooze(id: string): Promise<SensorStatus> {
    return this.request('DELETE', `/api/sensors/${encodeURIComponent(id)}/snooze`);
  }

  /** Deletes a sensor (admin): it is disconnected and unlisted; `purge` removes its alerts and data too. */
  async deleteSensor(id: string, purge = false): Promise<void> {
    await this.request('DELETE', `/api/sensors/${encodeURIComponent(id)}${purge ? '?purge=true' : ''}`);
  }

  model(id: string): Promise<ModelStatus> {
    return this.request('GET', `/api/sensors/${encodeURIComponent(id)}/model`);
  }

  /** `activateNow`: replace the model at once instead of a shadow trial first. */
  enroll(id: string, seconds: number, activateNow = false): Promise<ModelStatus> {
    return this.request('POST', `${sensorPath(id)}/enroll${activateNow ? '?activate=now' : ''}`, { seconds });
  }

  uploadModel(id: string, files: readonly File[], activateNow = false): Promise<ModelStatus> {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    return this.request('POST', `${sensorPath(id)}/model${activateNow ? '?activate=now' : ''}`, form);
  }

  modelVersions(id: string): Promise<ModelVersion[]> {
    return this.request('GET', `${sensorPath(id)}/models`);
  }

  activateVersion(id: string, version: number): Promise<ModelVersion> {
    return this.request('POST', `${sensorPath(id)}/models/${version}/activate`);
  }

  discardVersion(id: string, version: number): Promise<ModelVersion> {
    return this.request('POST', `${sensorPath(id)}/models/${version}/discard`);
  }

  burnIn(id: string, version: number): Promise<ModelBurnIn> {
    return this.request('GET', `${sensorPath(id)}/models/${version}/burn-in`);
  }

  revertBurnIn(id: string, version: number): Promise<ModelBurnIn> {
    return this.request('POST', `${sensorPath(id)}/models/${version}/burn-in/revert`);
  }

  restartBurnIn(id: string, version: number): Promise<ModelBurnIn> {
    return this.request('POST', `${sensorPath(id)}/models/${version}/burn-in/restart`);
  }

  feedback(id: string): Promise<FeedbackInfo[]> {
    return this.request('GET', `${sensorPath(id)}/feedback`);
  }

  revertFeedback(id: string, feedbackId: number): Promise<FeedbackInfo> {
    return this.request('DELETE', `${sensorPath(id)}/feedback/${feedbackId}`);
  }

  alerts(filter: AlertFilter): Promise<Page<Alert>> {
    return this.request('GET', `/api/alerts?${new URLSearchParams(alertFilterQuery(filter))}`);
  }

  /** The alerts before and after `id` in the list of `filter`'s filters and sort (paging ignored). */
  alertNeighbours(id: number, filter: AlertFilter): Promise<AlertNeighbours> {
    return this.request('GET', `/api/alerts/${id}/neighbours?${new URLSearchParams(listQuery(filter))}`);
  }

  /** Every acknowledge or resolve asked of the alert, applied or refused, oldest first. */
  alertActions(id: number): Promise<AlertAction[]> {
    return this.request('GET', `/api/alerts/${id}/actions`);
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

  /** Acknowledges or resolves the alerts `ids` at once (`POST /api/alerts/ack` or `/resolve`). */
  bulkAlerts(step: 'ack' | 'resolve', ids: readonly number[]): Promise<BulkAlertResult> {
    return this.request('POST', `/api/alerts/${step}`, { ids });
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

  /**
   * A download (CSV, alert bundle, shift report). Links cannot send the token's header and tokens never go
   * in URLs, so the dashboard fetches the file with the header and hands the browser the bytes.
   */
  async download(path: string): Promise<{ blob: Blob; filename: string | null }> {
    const res = await this.fetchImpl(this.base + path, {
      method: 'GET',
      headers: { Authorization: `Bearer ${this.token}` },
    });
    if (!res.ok) {
      const text = await res.text();
      let message = text || res.statusText;
      try {
        message = (JSON.parse(text) as ApiError).message?.toString() ?? message;
      } catch {
        // not JSON: the text as it is
      }
      throw new HttpError(res.status, `GET ${path}: ${res.status} ${message}`, null);
    }
    const disposition = res.headers.get('Content-Disposition') ?? '';
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? null;
    return { blob: await res.blob(), filename };
  }

  /** The alerts matching `filter` as CSV (every match, not one page). */
  alertsCsvPath(filter: AlertFilter): string {
    const { limit: _l, offset: _o, ...filters } = alertFilterQuery(filter);
    return `/api/export/alerts.csv?${new URLSearchParams(filters)}`;
  }

  bundlePath(id: number): string {
    return `/api/export/alerts/${id}/bundle.zip`;
  }

  /** The printable shift report of `[from, to]`, times in `tz`. */
  shiftReportPath(from: number, to: number, tz: string): string {
    return `/api/export/shift-report?${qs({ from, to, tz })}`;
  }

  /**
   * URLs of an alert's media for `<audio src>` / `<img src>` (which cannot send the token): each carries a
   * ticket for this alert and route that expires in minutes (`expiresAt`).
   */
  async mediaUrls(id: number): Promise<MediaTicketUrls> {
    const t = await this.request<MediaTicketUrls>('POST', `/api/alerts/${id}/media-tickets`);
    return {
      ...t,
      audio: this.base + t.audio,
      picture: this.base + t.picture,
      spectrogram: this.base + t.spectrogram,
    };
  }
}

const sensorPath = (id: string) => `/api/sensors/${encodeURIComponent(id)}`;

/**
 * What to show of a failed request: the server's own message, without the method, path and status; for a 503
 * the operator's words (not applied, retry) rather than the server's (which speak of Retry-After and
 * `/api/health`).
 */
export function errorText(e: unknown): string {
  if (e instanceof HttpError && e.status === 503) return e.message;
  return e instanceof HttpError && e.body?.message ? e.body.message : (e as Error).message;
}

function qs(params: Record<string, number | string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}
