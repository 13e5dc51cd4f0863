import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref, takeUrlToken, type Route } from '../src/lib/route';

describe('hash routes', () => {
  it('parses every screen', () => {
    expect(parseRoute('')).toEqual({ name: 'overview' });
    expect(parseRoute('#/')).toEqual({ name: 'overview' });
    expect(parseRoute('#/sensors/pump%201')).toEqual({ name: 'sensor', sensorId: 'pump 1' });
    expect(parseRoute('#/alerts?state=open&offset=25')).toEqual({
      name: 'alerts',
      query: { state: 'open', offset: '25' },
    });
    expect(parseRoute('#/alerts/42')).toEqual({ name: 'alert', alertId: 42 });
    expect(parseRoute('#/alerts/42?sort=start&q=gear')).toEqual({
      name: 'alert',
      alertId: 42,
      query: { sort: 'start', q: 'gear' },
    });
    expect(parseRoute('#/models')).toEqual({ name: 'models' });
    expect(parseRoute('#/models/pump-1')).toEqual({ name: 'models', sensorId: 'pump-1' });
    expect(parseRoute('#/alerts/x')).toEqual({ name: 'not-found', path: '/alerts/x' });
    expect(parseRoute('#/settings/notifications')).toEqual({ name: 'notifications' });
  });

  it('round-trips', () => {
    const routes: Route[] = [
      { name: 'overview' },
      { name: 'sensor', sensorId: 'a.b-c_d' },
      { name: 'alerts', query: { sensorId: 'pump-1', state: 'open' } },
      { name: 'alert', alertId: 7 },
      { name: 'alert', alertId: 7, query: { group: 'site:plant-a', sort: 'peakScore' } },
      { name: 'models', sensorId: 'pump-1' },
      { name: 'notifications' },
    ];
    for (const r of routes) expect(parseRoute(routeHref(r))).toEqual(r);
    expect(routeHref({ name: 'alerts', query: { state: '' } })).toBe('#/alerts');
  });

  it('takes a ?token= from the page URL and gives the URL without it', () => {
    expect(takeUrlToken('http://h:8080/?token=abc&x=1#/alerts/3')).toEqual({
      token: 'abc',
      cleanUrl: '/?x=1#/alerts/3',
    });
    expect(takeUrlToken('http://h:8080/?token=abc')).toEqual({ token: 'abc', cleanUrl: '/' });
    expect(takeUrlToken('http://h:8080/#/')).toBeNull();
  });
});
