import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { resolveServerConfig } from '@hark/server';
import { runTokenCreate, serverOptions, type ServeOptions } from '../src/commands/serve.js';
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

describe('hark token create --sensor', () => {
  const run = (args: string[]) => {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void out.push(l));
    const program = buildProgram();
    const create = program.commands.find((c) => c.name() === 'token')!.commands[0];
    create.exitOverride().configureOutput({ writeErr: (s) => void out.push(s) });
    try {
      program.parse(['token', 'create', ...args], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    return out.join('\n');
  };

  it('binds a sensor token to the listed ids', () => {
    const data = mkdtempSync(join(tmpdir(), 'hark-token-'));
    const created = JSON.parse(
      run(['--role', 'sensor', '--name', 'line A', '--sensor', 'pump-1,pump-2', '--data', data, '--json']),
    ) as { sensors: string[] };
    expect(created.sensors).toEqual(['pump-1', 'pump-2']);
    expect(run(['--role', 'sensor', '--name', 'free', '--data', data])).toMatch(
      /bound to the first sensor id it streams as\); it is shown only once/,
    );
    expect(() => run(['--role', 'sensor', '--name', 'x', '--sensor', 'pump-1,..', '--data', data])).toThrow(
      /sensor id '\.\.' must be 1-64 characters/,
    );
    expect(() => runTokenCreate({ role: 'operator', name: 'x', sensor: ['pump-1'], data })).toThrow(
      'sensors bind sensor tokens only',
    );
  });
});
