import { describe, expect, it, vi } from 'vitest';
import { resolveServerConfig, SERVER_DEFAULTS } from '@hark/server';
import {
  missingNodeFlags,
  OLD_SPACE_FLAG,
  runTokenCreate,
  serveOptions,
  SERVER_NODE_FLAGS,
  SINGLE_THREADED_GC,
} from '../src/commands/serve.js';
import { buildProgram } from '../src/program.js';
import { tempDir } from '../../../test/support/temp.js';

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

describe('hark serve node flags', () => {
  it('names each launcher flag that node was started without', () => {
    expect(SERVER_NODE_FLAGS).toEqual(['--single-threaded-gc', '--initial-old-space-size=256']);
    expect(missingNodeFlags([])).toEqual([SINGLE_THREADED_GC, OLD_SPACE_FLAG]);
    expect(missingNodeFlags([...SERVER_NODE_FLAGS])).toEqual([]);
    expect(missingNodeFlags(['--single-threaded-gc'])).toEqual([OLD_SPACE_FLAG]);
    expect(missingNodeFlags([OLD_SPACE_FLAG, '--inspect'])).toEqual([SINGLE_THREADED_GC]);
  });

  it('takes an old-space size of any value, in either spelling, as chosen', () => {
    for (const given of [
      ['--initial-old-space-size=512'],
      ['--initial_old_space_size=64'],
      ['--initial-heap-size=300'],
      ['--initial-old-space-size', '128'],
    ])
      expect(missingNodeFlags(['--single-threaded-gc', ...given]), given.join(' ')).toEqual([]);
    // Not a size of the old space: the note still names the flag.
    for (const other of [
      '--max-old-space-size=4096',
      '--initial-old-space-sizes=1',
      '--max-semi-space-size=16',
    ])
      expect(missingNodeFlags(['--single-threaded-gc', other]), other).toEqual([OLD_SPACE_FLAG]);
  });
});

describe('hark token create --sensor', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void out.push(l));
    const program = buildProgram();
    const create = program.commands.find((c) => c.name() === 'token')!.commands[0];
    create.exitOverride().configureOutput({ writeErr: (s) => void out.push(s) });
    try {
      await program.parseAsync(['token', 'create', ...args], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    return out.join('\n');
  };

  it('binds a sensor token to the listed ids', async () => {
    const data = tempDir('token');
    const created = JSON.parse(
      await run([
        '--role',
        'sensor',
        '--name',
        'line A',
        '--sensor',
        'pump-1,pump-2',
        '--data',
        data,
        '--json',
      ]),
    ) as { sensors: string[] };
    expect(created.sensors).toEqual(['pump-1', 'pump-2']);
    expect(await run(['--role', 'sensor', '--name', 'free', '--data', data])).toMatch(
      /bound to the first sensor id it streams as\); it is shown only once/,
    );
    await expect(
      run(['--role', 'sensor', '--name', 'x', '--sensor', 'pump-1,..', '--data', data]),
    ).rejects.toThrow(/sensor id '\.\.' must be 1-64 characters/);
    await expect(runTokenCreate({ role: 'operator', name: 'x', sensor: ['pump-1'], data })).rejects.toThrow(
      'sensors bind sensor tokens only',
    );
  });
});
