import { describe, expect, it } from 'vitest';
import { HarkMetrics, SCORING_LATENCY_BUCKETS } from '../../src/metrics/index.js';

describe('HarkMetrics', () => {
  it('exposes every hark metric with its labels in Prometheus text', async () => {
    const m = new HarkMetrics();
    m.windowScored('pump-1', 0.012);
    m.windowScored('pump-1', 0.3);
    m.windowsDropped.inc({ sensor: 'pump-1' });
    m.alerts.inc({ sensor: 'pump-1', kind: 'anomaly' });
    m.sensorsConnected.set(2);
    m.audioSeconds.inc({ sensor: 'pump-1' }, 0.5);
    m.ingestRejections.inc({ code: 'DUPLICATE_SEQ' });
    m.liveClients.inc();
    m.liveDropped.inc(3);
    m.webhookOutcome('retry');
    m.webhookOutcome('delivered');

    const { contentType, body } = await m.text();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('hark_windows_scored_total{sensor="pump-1"} 2');
    expect(body).toContain('hark_windows_dropped_total{sensor="pump-1"} 1');
    expect(body).toContain('hark_scoring_latency_seconds_bucket{le="0.005",sensor="pump-1"} 0');
    expect(body).toContain('hark_scoring_latency_seconds_bucket{le="0.025",sensor="pump-1"} 1');
    expect(body).toContain('hark_scoring_latency_seconds_bucket{le="0.5",sensor="pump-1"} 2');
    expect(body).toContain('hark_scoring_latency_seconds_count{sensor="pump-1"} 2');
    expect(body).toContain('hark_alerts_total{sensor="pump-1",kind="anomaly"} 1');
    expect(body).toContain('hark_sensors_connected 2');
    expect(body).toContain('hark_audio_seconds_total{sensor="pump-1"} 0.5');
    expect(body).toContain('hark_ingest_rejections_total{code="DUPLICATE_SEQ"} 1');
    expect(body).toContain('hark_live_clients 1');
    expect(body).toContain('hark_live_dropped_messages_total 3');
    expect(body).toContain('hark_webhook_deliveries_total{outcome="retry"} 1');
    expect(body).toContain('hark_webhook_deliveries_total{outcome="delivered"} 1');
    expect(body).toMatch(/^process_cpu_seconds_total \d/m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(SCORING_LATENCY_BUCKETS[0]).toBe(0.005);
    expect(SCORING_LATENCY_BUCKETS.at(-1)).toBe(2);
  });

  it('keeps registries apart, so two servers can share a process', async () => {
    const a = new HarkMetrics();
    const b = new HarkMetrics({ defaultMetrics: false });
    a.sensorsConnected.set(5);
    expect((await a.text()).body).toContain('hark_sensors_connected 5');
    const other = (await b.text()).body;
    expect(other).toContain('hark_sensors_connected 0');
    expect(other).not.toContain('process_cpu_seconds_total');
  });
});
