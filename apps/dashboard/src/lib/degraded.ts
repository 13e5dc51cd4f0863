/**
 * What the degraded banner says, from `GET /api/health` (`Health`): one notice per part that is wrong, in the
 * operators' words, with since when (server ms) when the server says it. Pure: unit-tested without a browser.
 */
import type { Health } from './contracts';
import { formatClock } from './axes';
import { formatAge } from './sensor-state';

export interface DegradedNotice {
  /** `storage`: the database or the data directory; `cluster`: the cluster link (Redis). */
  part: 'storage' | 'cluster';
  /** One short sentence: what is wrong. */
  title: string;
  /** What still works and what does not, meanwhile. */
  detail: string;
  /** Server ms since when (null when the server does not say, e.g. while held writes are written). */
  since: number | null;
}

/** The notices of `health` (none when it is ok or not known yet), the store's first. */
export function degradedNotices(health: Health | null): DegradedNotice[] {
  if (!health || health.status !== 'degraded') return [];
  const out: DegradedNotice[] = [];
  const st = health.storage;
  const db = st.engine === 'postgres' ? 'The database (PostgreSQL)' : 'The data directory';
  const since = st.failingSince;
  if (st.reason === 'storage unreachable') {
    out.push({
      part: 'storage',
      title: `${db} cannot be reached.`,
      detail:
        'New alerts and scores are held by the server and written when it returns; the live view continues. ' +
        'Actions (acknowledge, resolve, settings) are not applied meanwhile: retry them once this clears.',
      since,
    });
  } else if (st.reason === 'storage refuses writes') {
    out.push({
      part: 'storage',
      title: st.readOnly
        ? `${db} took no writes when the server started: it runs read-only.`
        : `${db} refuses writes (a full disk or an I/O error).`,
      detail:
        'New alerts and scores are held by the server and written once it takes writes again; the live view ' +
        'continues. Actions (acknowledge, resolve, settings) are not applied meanwhile: retry them once this ' +
        'clears.',
      since,
    });
  } else if (st.reason === 'writes wait') {
    const n = Object.values(st.waitingWrites).reduce((a, b) => a + b, 0);
    out.push({
      part: 'storage',
      title: 'Storage is back: the server is writing what it held during the outage.',
      detail: `${n} held write${n === 1 ? '' : 's'} still to go; actions work again.`,
      since,
    });
  }
  if (health.cluster.redis === 'down') {
    out.push({
      part: 'cluster',
      title: 'The cluster link (Redis) is down.',
      detail:
        `Only this instance's sensors (${health.cluster.instance}) are shown and scored here; sensors ` +
        'streaming to other instances are missing from this page, and sensors that connect meanwhile wait, ' +
        'until it returns.',
      since: health.cluster.downSince,
    });
  }
  return out;
}

/** `Since 22:41:05` (a sentence of its own after the title), in the browser's time zone (`utc` for tests). */
export function sinceText(since: number, utc = false): string {
  return `Since ${formatClock(since, utc)}`;
}

/** `(3 min ago)`; never negative (the server's clock may run ahead of the browser's). */
export function agoText(since: number, now: number): string {
  return `(${formatAge(now - since)} ago)`;
}

/**
 * How often a signed-in dashboard asks `GET /api/health`, ms. The server's own retry rounds run each second and
 * its 503s say Retry-After 5 s; 10 s keeps a wall of dashboards light while a notice still comes and goes within
 * a few seconds of the outage (the store also asks at once on a socket reconnect or a 503).
 */
export const HEALTH_POLL_MS = 10_000;

/** The banner's last line. */
export const CLEARS_BY_ITSELF =
  `This notice clears by itself when the server reports healthy again (checked every ${HEALTH_POLL_MS / 1000} s); ` +
  'no need to reload.';
