/**
 * A small hash router: `#/`, `#/sensors/:id`, `#/sensors/:id/history?range=`, `#/alerts?...`, `#/alerts/:id?...`,
 * `#/models`, `#/wall`, `#/settings/notifications`.
 */

export type Route =
  | { name: 'overview' }
  | { name: 'sensor'; sensorId: string }
  | { name: 'history'; sensorId: string; query: Record<string, string> }
  | { name: 'alerts'; query: Record<string, string> }
  /** `query`: the alert list's filters and sort it was opened from (next / previous walk that list). */
  | { name: 'alert'; alertId: number; query?: Record<string, string> }
  | { name: 'models'; sensorId?: string }
  | { name: 'notifications' }
  | { name: 'wall' }
  | { name: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(search));
  if (parts.length === 0) return { name: 'overview' };
  if (parts[0] === 'wall' && parts.length === 1) return { name: 'wall' };
  if (parts[0] === 'sensors' && parts.length === 2) return { name: 'sensor', sensorId: parts[1] };
  if (parts[0] === 'sensors' && parts.length === 3 && parts[2] === 'history')
    return { name: 'history', sensorId: parts[1], query };
  if (parts[0] === 'alerts' && parts.length === 1) return { name: 'alerts', query };
  if (parts[0] === 'alerts' && parts.length === 2 && /^\d+$/.test(parts[1]))
    return Object.keys(query).length
      ? { name: 'alert', alertId: Number(parts[1]), query }
      : { name: 'alert', alertId: Number(parts[1]) };
  if (parts[0] === 'models' && parts.length <= 2)
    return parts[1] ? { name: 'models', sensorId: parts[1] } : { name: 'models' };
  if (parts[0] === 'settings' && parts[1] === 'notifications' && parts.length === 2)
    return { name: 'notifications' };
  return { name: 'not-found', path };
}

/** The hash of a route (`#/...`); empty query values are left out. */
export function routeHref(route: Route): string {
  switch (route.name) {
    case 'overview':
      return '#/';
    case 'wall':
      return '#/wall';
    case 'sensor':
      return `#/sensors/${encodeURIComponent(route.sensorId)}`;
    case 'history': {
      const q = new URLSearchParams(Object.entries(route.query).filter(([, v]) => v !== '' && v != null));
      const s = q.toString();
      return `#/sensors/${encodeURIComponent(route.sensorId)}/history${s ? `?${s}` : ''}`;
    }
    case 'alerts': {
      const q = new URLSearchParams(Object.entries(route.query).filter(([, v]) => v !== '' && v != null));
      const s = q.toString();
      return s ? `#/alerts?${s}` : '#/alerts';
    }
    case 'alert': {
      const q = new URLSearchParams(
        Object.entries(route.query ?? {}).filter(([, v]) => v !== '' && v != null),
      );
      const s = q.toString();
      return `#/alerts/${route.alertId}${s ? `?${s}` : ''}`;
    }
    case 'models':
      return route.sensorId ? `#/models/${encodeURIComponent(route.sensorId)}` : '#/models';
    case 'notifications':
      return '#/settings/notifications';
    case 'not-found':
      return `#${route.path}`;
  }
}

/**
 * A `?token=` in the page URL (from `make demo`): the token and the URL to put back in the address bar
 * without it, or null when there is none.
 */
export function takeUrlToken(href: string): { token: string; cleanUrl: string } | null {
  const url = new URL(href);
  const token = url.searchParams.get('token');
  if (!token) return null;
  url.searchParams.delete('token');
  return { token, cleanUrl: url.pathname + url.search + url.hash };
}
