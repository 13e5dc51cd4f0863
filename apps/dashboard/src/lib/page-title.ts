/**
 * The browser tab's title: what the view is, and how many alerts wait for a person, so that a tab in the
 * background still says when something needs looking at ("(3) Alerts · hark").
 */
import type { Route } from './route';

export function pageTitle(route: Route, waiting: number, sensorName?: string): string {
  const what = (() => {
    switch (route.name) {
      case 'overview':
        return 'Overview';
      case 'sensor':
        return sensorName || route.sensorId;
      case 'alerts':
        return 'Alerts';
      case 'alert':
        return `Alert #${route.alertId}`;
      case 'models':
        return route.sensorId ? `Models · ${sensorName || route.sensorId}` : 'Models';
      case 'notifications':
        return 'Notifications';
      default:
        return 'Not found';
    }
  })();
  return `${waiting > 0 ? `(${waiting}) ` : ''}${what} · hark`;
}

/** The viewer's time zone and its current offset from UTC, as every time on the page is shown in it. */
export function timeZoneLabel(
  now = new Date(),
  zone = Intl.DateTimeFormat().resolvedOptions().timeZone,
): string {
  const minutes = -now.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  const offset = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return zone && zone !== 'UTC' ? `${zone} (${offset})` : offset;
}
