import { describe, expect, it } from 'vitest';
import { ConfigError, resolveServerConfig, SERVER_DEFAULTS } from '../src/config.js';

const problems = (opts: Parameters<typeof resolveServerConfig>[0], env: NodeJS.ProcessEnv = {}) => {
  try {
    resolveServerConfig(opts, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(RangeError);
    return (err as ConfigError).problems;
  }
  return [];
};

describe('server configuration', () => {
  it('takes defaults, then HARK_* variables, then options', () => {
    const c = resolveServerConfig({ host: '0.0.0.0' }, { HARK_PORT: '9090', HARK_HOST: '10.0.0.1' });
    expect(c).toMatchObject({ ...SERVER_DEFAULTS, port: 9090, host: '0.0.0.0' });
    expect(resolveServerConfig({ port: 0 }, { HARK_PORT: '9090' }).port).toBe(0);
  });

  it('reports every bad value at once, each by its flag or environment variable', () => {
    const list = problems(
      { port: 70000, hopSeconds: Number.NaN, queuePerSensor: 0 },
      {
        HARK_MAX_CHUNK_BYTES: '12',
        HARK_WEBHOOK_URL: 'ftp://example.com',
        HARK_DATA: '/tmp/x',
        HARK_HOP_SECONDS: 'fast',
      },
    );
    expect(list).toEqual([
      'HARK_HOP_SECONDS ("fast") must be a number',
      '--port (70000) must be a port number 0..65535',
      'HARK_MAX_CHUNK_BYTES (12) must be at least 1024 bytes',
      '--hop-seconds (NaN) must be 0.05..10 seconds',
      'option queuePerSensor (0) must be a whole number >= 1',
      'HARK_WEBHOOK_URL ("ftp://example.com") is not an http(s) URL',
    ]);
  });

  it('reads the shutdown grace from --shutdown-grace or HARK_SHUTDOWN_GRACE_SECONDS (default 10 s)', () => {
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, {}).shutdownGraceSeconds).toBe(10);
    const env = { HARK_SHUTDOWN_GRACE_SECONDS: '30' };
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, env).shutdownGraceSeconds).toBe(30);
    expect(
      resolveServerConfig({ dataDir: '/tmp/x', shutdownGraceSeconds: 2 }, env).shutdownGraceSeconds,
    ).toBe(2);
    expect(() => resolveServerConfig({ dataDir: '/tmp/x' }, { HARK_SHUTDOWN_GRACE_SECONDS: '0' })).toThrow(
      'HARK_SHUTDOWN_GRACE_SECONDS (0) must be more than 0 and at most 3600 seconds',
    );
    expect(() => resolveServerConfig({ dataDir: '/tmp/x', shutdownGraceSeconds: -1 }, {})).toThrow(
      '--shutdown-grace (-1) must be more than 0',
    );
  });

  it('reads the detector settings of fitted models from --fit-config or HARK_FIT_CONFIG (default: the detector defaults)', () => {
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, {}).fitConfig).toEqual({});
    const env = { HARK_FIT_CONFIG: '{"fusion":"max","impulseBands":0}' };
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, env).fitConfig).toEqual({
      fusion: 'max',
      impulseBands: 0,
    });
    expect(resolveServerConfig({ dataDir: '/tmp/x', fitConfig: { fusion: 'sum' } }, env).fitConfig).toEqual({
      fusion: 'sum',
    });
    expect(problems({}, { HARK_FIT_CONFIG: 'fusion=max' })).toEqual([
      'HARK_FIT_CONFIG ("fusion=max") must be a JSON object of detector settings, e.g. {"fusion":"max"}',
    ]);
    expect(problems({ fitConfig: { fusion: 'mean' as never } })).toEqual([
      expect.stringMatching(/^--fit-config: fusion \('mean'\) must be one of /),
    ]);
    expect(problems({}, { HARK_FIT_CONFIG: '{"impulseBands":-1}' })).toEqual([
      expect.stringMatching(/^HARK_FIT_CONFIG: impulseBands \(-1\) must be 0 \(off\)/),
    ]);
  });

  it('reads HARK_MODEL_VERSIONS_KEPT (default 10, at least 2) and HARK_MAX_SHADOW_MODELS (default 2)', () => {
    const c = resolveServerConfig({ dataDir: '/tmp/x' }, {});
    expect([c.modelVersionsKept, c.maxShadowModels]).toEqual([10, 2]);
    const env = { HARK_MODEL_VERSIONS_KEPT: '4', HARK_MAX_SHADOW_MODELS: '0' };
    const e = resolveServerConfig({ dataDir: '/tmp/x' }, env);
    expect([e.modelVersionsKept, e.maxShadowModels]).toEqual([4, 0]);
    expect(() =>
      resolveServerConfig(
        { dataDir: '/tmp/x' },
        { HARK_MODEL_VERSIONS_KEPT: '1', HARK_MAX_SHADOW_MODELS: '-1' },
      ),
    ).toThrow(
      /HARK_MODEL_VERSIONS_KEPT \(1\) must be a whole number >= 2[^]*HARK_MAX_SHADOW_MODELS \(-1\) must be a whole number >= 0/,
    );
  });

  it('reads the score retention from --score-retention or HARK_SCORE_RETENTION_DAYS (default 30, at least a day)', () => {
    expect(resolveServerConfig({}, {}).scoreRetentionDays).toBe(30);
    expect(resolveServerConfig({}, { HARK_SCORE_RETENTION_DAYS: '90' }).scoreRetentionDays).toBe(90);
    expect(
      resolveServerConfig({ scoreRetentionDays: 2 }, { HARK_SCORE_RETENTION_DAYS: '90' }).scoreRetentionDays,
    ).toBe(2);
    expect(problems({}, { HARK_SCORE_RETENTION_DAYS: '0.5' })).toEqual([
      'HARK_SCORE_RETENTION_DAYS (0.5) must be 1..36500 days',
    ]);
    expect(problems({ scoreRetentionDays: 0 })).toEqual(['--score-retention (0) must be 1..36500 days']);
  });

  it('reads the score points kept while the store fails from --write-queue-max or HARK_WRITE_QUEUE_MAX (default 100000)', () => {
    expect(resolveServerConfig({}, {}).writeQueueMax).toBe(100_000);
    expect(resolveServerConfig({}, { HARK_WRITE_QUEUE_MAX: '500000' }).writeQueueMax).toBe(500_000);
    expect(problems({}, { HARK_WRITE_QUEUE_MAX: '100' })).toEqual([
      'HARK_WRITE_QUEUE_MAX (100) must be an integer 5000..100000000 (score points kept while the store fails)',
    ]);
    expect(problems({ writeQueueMax: 1e9 })).toEqual([
      '--write-queue-max (1000000000) must be an integer 5000..100000000 (score points kept while the store fails)',
    ]);
  });

  it("reads HARK_DSP_WORKER (default off; on: the streams' DSP in a worker thread), 1/0, true/false or on/off", () => {
    expect(resolveServerConfig({}, {}).dspWorker).toBe(false);
    expect(resolveServerConfig({}, { HARK_DSP_WORKER: '0' }).dspWorker).toBe(false);
    expect(resolveServerConfig({}, { HARK_DSP_WORKER: 'Off' }).dspWorker).toBe(false);
    expect(resolveServerConfig({}, { HARK_DSP_WORKER: 'true' }).dspWorker).toBe(true);
    expect(problems({}, { HARK_DSP_WORKER: 'yes please' })).toEqual([
      'HARK_DSP_WORKER ("yes please") must be 1 or 0 (true / false, on / off)',
    ]);
  });

  it("reads HARK_BACKBONE_WORKER (default on: the backbones' sessions in worker threads), 1/0", () => {
    expect(resolveServerConfig({}, {}).backboneWorker).toBe(true);
    expect(resolveServerConfig({}, { HARK_BACKBONE_WORKER: '0' }).backboneWorker).toBe(false);
    expect(resolveServerConfig({}, { HARK_BACKBONE_WORKER: 'on' }).backboneWorker).toBe(true);
    expect(resolveServerConfig({ backboneWorker: false }, {}).backboneWorker).toBe(false);
    expect(problems({}, { HARK_BACKBONE_WORKER: 'maybe' })).toEqual([
      'HARK_BACKBONE_WORKER ("maybe") must be 1 or 0 (true / false, on / off)',
    ]);
  });

  it('reads HARK_SEARCH_JOBS (default 1: the FAISS searches one after another), 1..64', () => {
    expect(resolveServerConfig({}, {}).searchJobs).toBe(1);
    expect(resolveServerConfig({}, { HARK_SEARCH_JOBS: '2' }).searchJobs).toBe(2);
    expect(resolveServerConfig({ searchJobs: 3 }, { HARK_SEARCH_JOBS: '2' }).searchJobs).toBe(3);
    for (const bad of ['0', '1.5', '65'])
      expect(problems({}, { HARK_SEARCH_JOBS: bad })).toEqual([
        `HARK_SEARCH_JOBS (${bad}) must be a whole number 1..64 (FAISS jobs at once; 1 runs the searches one after another)`,
      ]);
    expect(problems({}, { HARK_SEARCH_JOBS: 'two' })).toEqual(['HARK_SEARCH_JOBS ("two") must be a number']);
  });

  it('reads HARK_MAX_CLOCK_SKEW_SECONDS (default 300 s) and refuses less than a second', () => {
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, {}).maxClockSkewSeconds).toBe(300);
    expect(
      resolveServerConfig({ dataDir: '/tmp/x' }, { HARK_MAX_CLOCK_SKEW_SECONDS: '30' }).maxClockSkewSeconds,
    ).toBe(30);
    expect(problems({}, { HARK_MAX_CLOCK_SKEW_SECONDS: '0' })).toEqual([
      'HARK_MAX_CLOCK_SKEW_SECONDS (0) must be at least 1 second',
    ]);
  });

  it('names the variable when the value came from the environment, the flag when from an option', () => {
    expect(problems({}, { HARK_PORT: '-1' })).toEqual(['HARK_PORT (-1) must be a port number 0..65535']);
    expect(problems({ port: -1 }, { HARK_PORT: '80' })).toEqual([
      '--port (-1) must be a port number 0..65535',
    ]);
    expect(problems({ webhookUrl: 'not a url' })).toEqual([
      '--webhook-url ("not a url") is not an http(s) URL',
    ]);
    expect(() => resolveServerConfig({ hopSeconds: 20, alertOpenWindows: 1.5 }, {})).toThrow(
      'invalid server configuration:\n  --hop-seconds (20) must be 0.05..10 seconds\n  option alertOpenWindows (1.5) must be a whole number >= 1',
    );
  });
  it('reads the cluster settings (--redis, --instance, HARK_LEASE_SECONDS), off by default, and checks them', () => {
    expect(resolveServerConfig({ dataDir: '/tmp/x' }, {})).toMatchObject({
      redisUrl: '',
      instance: '',
      leaseSeconds: 3,
    });
    expect(
      resolveServerConfig(
        { dataDir: '/tmp/x' },
        { HARK_REDIS_URL: 'redis://10.0.0.5:6379', HARK_INSTANCE: 'hark-b', HARK_LEASE_SECONDS: '7' },
      ),
    ).toMatchObject({ redisUrl: 'redis://10.0.0.5:6379', instance: 'hark-b', leaseSeconds: 7 });
    expect(
      problems({ redisUrl: 'http://10.0.0.5:6379', instance: 'a b' }, { HARK_LEASE_SECONDS: '0.5' }),
    ).toEqual([
      '--instance ("a b") must be 1-64 characters of letters, digits, ".", "_", ":" and "-"',
      '--redis ("http://10.0.0.5:6379") is not a Redis URL, e.g. redis://127.0.0.1:6379',
      'HARK_LEASE_SECONDS (0.5) must be 1..60 seconds',
    ]);
  });
  it('reads the heartbeat, data timeout and alert lifecycle settings from flags or HARK_* (with defaults)', () => {
    const c = resolveServerConfig({ dataDir: '/tmp/x' }, {});
    expect(c).toMatchObject({
      pingIntervalSeconds: 3,
      pingTimeoutSeconds: 5,
      dataTimeoutSeconds: 5,
      alertQuietSeconds: 120,
      alertRepeatSeconds: 600,
      criticalPeak: 2,
      criticalSeconds: 30,
    });
    // The promise to operators: a dead connection is dropped within 10 s by default.
    expect(c.pingIntervalSeconds + c.pingTimeoutSeconds).toBeLessThan(10);
    const env = {
      HARK_PING_INTERVAL_SECONDS: '1',
      HARK_PING_TIMEOUT_SECONDS: '2',
      HARK_DATA_TIMEOUT_SECONDS: '4',
      HARK_ALERT_QUIET_SECONDS: '30',
      HARK_ALERT_REPEAT_SECONDS: '90',
      HARK_CRITICAL_PEAK: '3',
      HARK_CRITICAL_SECONDS: '10',
    };
    expect(resolveServerConfig({ dataDir: '/tmp/x', alertQuietSeconds: 5 }, env)).toMatchObject({
      pingIntervalSeconds: 1,
      pingTimeoutSeconds: 2,
      dataTimeoutSeconds: 4,
      alertQuietSeconds: 5,
      alertRepeatSeconds: 90,
      criticalPeak: 3,
      criticalSeconds: 10,
    });
    expect(
      problems(
        { dataDir: '/tmp/x', dataTimeoutSeconds: 0, criticalPeak: 0.5 },
        { HARK_PING_TIMEOUT_SECONDS: '0' },
      ),
    ).toEqual([
      'HARK_PING_TIMEOUT_SECONDS (0) must be 0.1..300 seconds',
      '--data-timeout (0) must be 0.5..3600 seconds',
      '--critical-peak (0.5) must be 1..1000 (1 = the threshold)',
    ]);
  });
});
