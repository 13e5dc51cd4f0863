import { describe, expect, it } from 'vitest';
import { resolveServerConfig, SERVER_DEFAULTS } from '@hark/server';
import { serveOptions } from '../src/commands/serve.js';
import { buildProgram } from '../src/program.js';

describe('hark serve options', () => {
  it('gives the server only what is on the command line, so HARK_PORT / HARK_HOST / HARK_DATA apply', () => {
    const serve = buildProgram().commands.find((c) => c.name() === 'serve')!;
    for (const flag of ['--port', '--host', '--data'])
      expect(serve.options.find((o) => o.long === flag)?.defaultValue, flag).toBeUndefined();
    const env = { HARK_PORT: '9000', HARK_HOST: '0.0.0.0', HARK_DATA: '/srv/hark' };
    expect(resolveServerConfig(serveOptions({}), env)).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/srv/hark',
    });
    expect(resolveServerConfig(serveOptions({ port: 8081, data: '/tmp/d' }), env)).toMatchObject({
      port: 8081,
      host: '0.0.0.0',
      dataDir: '/tmp/d',
    });
    expect(resolveServerConfig(serveOptions({}), {})).toMatchObject({
      port: SERVER_DEFAULTS.port,
      host: SERVER_DEFAULTS.host,
    });
  });
});
