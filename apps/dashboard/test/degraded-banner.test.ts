import { createSSRApp } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { afterEach, describe, expect, it } from 'vitest';
import DegradedBanner from '../src/components/DegradedBanner.vue';
import type { Health } from '../src/lib/contracts';
import { health } from '../src/stores/health';

const T = Date.UTC(2026, 11, 4, 22, 41, 5);

async function render(h: Health | null): Promise<string> {
  health.state.health = h;
  return renderToString(createSSRApp(DegradedBanner));
}

describe('DegradedBanner', () => {
  afterEach(() => health.stop());

  it('renders an empty live region while ok (so that a later notice is announced)', async () => {
    const html = await render(null);
    expect(html).toMatch(/role="status"/);
    expect(html).toMatch(/aria-live="polite"/);
    expect(html).not.toMatch(/degraded-banner/);
  });

  it('says what is wrong, since when, and that it clears by itself', async () => {
    const html = await render({
      status: 'degraded',
      storage: {
        engine: 'postgres',
        writable: false,
        reason: 'storage unreachable',
        readOnly: false,
        failingSince: T,
        lastError: 'sweep: ECONNREFUSED',
        errors: 4,
        waitingWrites: { alerts: 1 },
      },
      cluster: { instance: 'north', redis: 'down', downSince: T, leasesHeld: 1 },
    });
    const text = html
      .replace(/<!--.*?-->/g, '')
      .replace(/<[^>]+>/g, '')
      .replace(/&#39;/g, "'")
      .replace(/\s+/g, ' ');
    expect(html).toMatch(/data-testid="degraded-banner" data-parts="storage cluster"/);
    // Sentences with their spaces (Vue drops whitespace between elements that holds a line break).
    expect(text).toMatch(
      /^ ?The database \(PostgreSQL\) cannot be reached\. Since \d\d:\d\d:\d\d \(\d+ s ago\)\. New alerts /,
    );
    expect(text).toContain('the live view continues');
    expect(text).toContain('The cluster link (Redis) is down.');
    expect(text).toContain("Only this instance's sensors (north) are shown");
    expect(text).toMatch(/Since \d\d:\d\d:\d\d \(\d+ (s|min|h)/);
    expect(text).toContain('This notice clears by itself when the server reports healthy again');
    // The age changes each second: hidden from screen readers, which would announce every change.
    expect(html).toMatch(/<span aria-hidden="true">\(\d+/);
  });
});
