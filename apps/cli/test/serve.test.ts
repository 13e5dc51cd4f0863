import { describe, expect, it } from 'vitest';
import { resolveServerConfig } from '@hark/server';
import { serverOptions, type ServeOptions } from '../src/commands/serve.js';
import { buildProgram } from '../src/program.js';

/** The options `hark serve <args>` parses to (its action replaced, so nothing starts). */
function parseServe(args: string[]): ServeOptions {
  const program = buildProgram();
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  let parsed: ServeOptions | null = null;
  serve.action((o: ServeOptions) => {
    parsed = o;
  });
  program.parse(['serve', ...args], { from: 'user' });
  return parsed as unknown as ServeOptions;
}

describe('hark serve options', () => {
  it('HARK_PORT, HARK_HOST and HARK_DATA apply when the flags are left out', () => {
    const env = { HARK_PORT: '9000', HARK_HOST: '0.0.0.0', HARK_DATA: '/srv/hark' };
    const c = resolveServerConfig(serverOptions(parseServe([])), env);
    expect({ port: c.port, host: c.host, dataDir: c.dataDir }).toEqual({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/srv/hark',
    });
  });

  it('flags win over the variables, and the defaults apply when neither is given', () => {
    const env = { HARK_PORT: '9000', HARK_DATA: '/srv/hark' };
    const flagged = resolveServerConfig(serverOptions(parseServe(['--port', '7000', '--data', '/d'])), env);
    expect({ port: flagged.port, dataDir: flagged.dataDir }).toEqual({ port: 7000, dataDir: '/d' });
    const plain = resolveServerConfig(serverOptions(parseServe([])), {});
    expect({ port: plain.port, host: plain.host }).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(plain.dataDir).toMatch(/\/data$/);
  });
});
