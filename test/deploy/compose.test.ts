/**
 * The deployment files, without a Docker engine: `docker-compose config` accepts docker-compose.yml and
 * resolves the service, port, volume, healthcheck and webhook settings a user relies on; the Dockerfile
 * installs every workspace before `npm ci`, runs `hark serve` with options the command really accepts, and
 * keeps its data in the volume. The `cluster` profile (PostgreSQL, Redis, three instances, HAProxy) resolves
 * with the options issue 17 names, and `haproxy -c` accepts its balancer config when haproxy is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HARK_BIN = join(REPO, 'apps/cli/bin/hark.js');

const read = (p: string) => readFileSync(join(REPO, p), 'utf8');

/** Runs docker-compose in the repository with a clean environment for the variables the file reads. */
function compose(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  for (const k of [
    'HARK_PORT',
    'HARK_WEBHOOK_URL',
    'HARK_WEBHOOK_SECRET',
    'COMPOSE_FILE',
    'COMPOSE_PROFILES',
  ])
    delete clean[k];
  const r = spawnSync('docker-compose', args, { cwd: REPO, encoding: 'utf8', env: { ...clean, ...env } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

const hasCompose = !spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).error;
if (!hasCompose) {
  console.warn(
    'test/deploy/compose.test.ts: docker-compose is not installed (scripts/install-system-deps.sh installs ' +
      "it); skipping the checks of docker-compose.yml's resolved configuration",
  );
}

/**
 * The node flags the launchers start `hark serve` with: V8's garbage collection on the main thread and a floor
 * under the old generation (BENCHMARKS.md, "V8's background GC threads" and "V8's old-generation floor").
 */
const NODE_FLAGS = ['--single-threaded-gc', '--initial-old-space-size=256'];

/** The options `hark serve --help` lists, run as the images run it: with NODE_FLAGS, which node must accept. */
function serveOptions(): Set<string> {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, HARK_BIN, 'serve', '--help'], {
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  return new Set(r.stdout.match(/--[a-z][a-z-]*/g));
}

/** `[--opt, value]` pairs of a `hark serve` argument list; every option must be known and have a value. */
function serveArgs(argv: string[]): Map<string, string> {
  const known = serveOptions();
  const i = argv.indexOf('serve');
  expect(argv.slice(0, i + 1)).toEqual(['node', ...NODE_FLAGS, 'apps/cli/bin/hark.js', 'serve']);
  const out = new Map<string, string>();
  for (let k = i + 1; k < argv.length; k += 2) {
    expect(known, `hark serve has no option ${argv[k]}`).toContain(argv[k]);
    expect(argv[k + 1], `${argv[k]} needs a value`).toBeDefined();
    expect(argv[k + 1]).not.toMatch(/^--/);
    out.set(argv[k], argv[k + 1]);
  }
  return out;
}

/** The last stage of the Dockerfile (what runs), and the JSON-array value of one of its instructions. */
const dockerfile = read('Dockerfile');
const stages = dockerfile.split(/^FROM /m).slice(1);
const runStage = stages[stages.length - 1];
const instruction = (stage: string, name: string) =>
  stage.match(new RegExp(`^${name} (.+)$`, 'm'))?.[1].trim();

describe('Dockerfile', () => {
  test('builds and runs on Node.js 20 on Debian bookworm', () => {
    for (const s of stages) expect(s.split('\n')[0]).toMatch(/^node:20-bookworm-slim\b/);
  });

  test('copies every workspace package.json before npm ci, so the install layer matches the lock file', () => {
    const build = stages[0];
    const beforeCi = build.slice(0, build.indexOf('npm ci'));
    const workspaces = JSON.parse(read('package.json')).workspaces as string[];
    for (const w of workspaces) expect(beforeCi).toContain(`COPY ${w}/package.json ${w}/`);
    expect(beforeCi).toMatch(/COPY package\.json package-lock\.json \.npmrc/);
    for (const w of workspaces) expect(existsSync(join(REPO, w, 'package.json'))).toBe(true);
  });

  test('installs the Debian packages the FAISS addon needs to build and to run', () => {
    for (const p of ['build-essential', 'python3', 'libfaiss-dev', 'libopenblas0-openmp', 'liblapack-dev'])
      expect(stages[0]).toContain(p);
    expect(runStage).toContain('libopenblas0-openmp');
    expect(stages[0]).toMatch(/npm run build:addon -w @hark\/native/);
    expect(stages[0]).toMatch(/npm run build\b/);
  });

  test('runs `hark serve` with options it accepts, on all interfaces, with its data in the volume', () => {
    const cmd = JSON.parse(instruction(runStage, 'CMD') ?? '[]') as string[];
    const opts = serveArgs(cmd);
    expect(opts.get('--host')).toBe('0.0.0.0');
    expect(instruction(runStage, 'EXPOSE')).toBe(opts.get('--port'));
    expect(instruction(runStage, 'VOLUME')).toBe(opts.get('--data'));
    expect(instruction(runStage, 'HEALTHCHECK')).toBeDefined();
  });

  test('runs as a user that is not root', () => {
    const user = instruction(runStage, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  test('.dockerignore keeps host builds, installs and data out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['**/node_modules', '**/dist', 'native/build', 'data', 'demo-output', 'test-results'])
      expect(ignored).toContain(p);
  });
});

describe.skipIf(!hasCompose)('docker-compose.yml (docker-compose config)', () => {
  test('is valid', () => {
    expect(() => compose(['config', '-q'])).not.toThrow();
  });

  test('has the hark service and its named data volume; the demo sensor in the `demo` profile', () => {
    expect(compose(['config', '--services']).split('\n')).toContain('hark');
    expect(compose(['config', '--volumes']).split('\n')).toContain('hark-data');
    const demo = compose(['--profile', 'demo', 'config']);
    expect(demo).toMatch(/^ {2}demo-sensor:/m);
    expect(demo).toMatch(/profiles:\s*\n\s*- demo/);
    expect(existsSync(join(REPO, 'scripts/docker-demo-sensor.sh'))).toBe(true);
  });

  test('publishes port 8080 (HARK_PORT on the host), mounts the volume at /data, restarts, checks health', () => {
    const text = compose(['config']);
    const hark = text.slice(text.search(/^ {2}hark:/m)).split(/\n {2}\S/)[0];
    expect(hark).toMatch(/build:/);
    expect(hark).toMatch(/target: 8080/);
    expect(hark).toMatch(/published: "?8080"?/);
    expect(hark).toMatch(/- hark-data:\/data|source: hark-data\s*\n\s*target: \/data/);
    expect(hark).toMatch(/restart: (always|unless-stopped)/);
    expect(hark).toMatch(/healthcheck:[\s\S]*\/api\/docs-json/);
    expect(compose(['config'], { HARK_PORT: '9090' })).toMatch(/published: "?9090"?/);
  });

  test('passes the webhook URL and secret to the server, under the names the server reads', () => {
    const text = compose(['config'], {
      HARK_WEBHOOK_URL: 'https://hooks.example.com/hark',
      HARK_WEBHOOK_SECRET: 's3cret',
    });
    expect(text).toMatch(/HARK_WEBHOOK_URL: https:\/\/hooks\.example\.com\/hark/);
    expect(text).toMatch(/HARK_WEBHOOK_SECRET: s3cret/);
    const config = read('apps/server/src/config.ts');
    expect(config).toContain('env.HARK_WEBHOOK_URL');
    expect(config).toContain('env.HARK_WEBHOOK_SECRET');
  });

  test('runs the same `hark serve` command as the Dockerfile', () => {
    const text = compose(['config']);
    const block = text.slice(text.search(/^ {2}hark:/m)).match(/command:\n((?: {4}- .*\n)+)/)?.[1] ?? '';
    const argv = block
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\s*- /, '').replace(/^'(.*)'$/, '$1'));
    expect(argv).toEqual(JSON.parse(instruction(runStage, 'CMD') ?? '[]'));
  });
});

/** One service's block of `docker-compose config` output (two-space indented service names). */
function serviceBlock(text: string, name: string): string {
  const start = text.search(new RegExp(`^ {2}${name}:`, 'm'));
  expect(start, `service ${name}`).toBeGreaterThanOrEqual(0);
  return text.slice(start).split(/\n {2}\S/)[0];
}

/** The items of a block list (`key:` then `    - item` lines) in a service block. */
function listOf(block: string, key: string): string[] {
  const items = block.match(new RegExp(`\\n {4}${key}:\\n((?: {4}- .*\\n)+)`))?.[1] ?? '';
  return items
    .trim()
    .split('\n')
    .map((l) => l.replace(/^\s*- /, '').replace(/^'(.*)'$/, '$1'));
}

const CLUSTER = ['postgres', 'redis', 'hark-a', 'hark-b', 'hark-c', 'hark-lb'];
const INSTANCES = ['hark-a', 'hark-b', 'hark-c'];
/** Options of `hark serve` a cluster instance needs (issue 17). */
const CLUSTER_OPTIONS = ['--database', '--redis', '--instance'];
const HAPROXY_CFG = 'deploy/haproxy/haproxy.cfg';

describe.skipIf(!hasCompose)('docker-compose.yml profile `cluster`', () => {
  test('is valid', () => {
    expect(() => compose(['--profile', 'cluster', 'config', '-q'])).not.toThrow();
  });

  test('holds postgres, redis, three hark instances and a balancer, all off by default (plain up: hark alone)', () => {
    const text = compose(['--profile', 'cluster', 'config']);
    const services = compose(['--profile', 'cluster', 'config', '--services']).trim().split('\n');
    expect(services).toEqual(expect.arrayContaining(['hark', ...CLUSTER]));
    // Every service but `hark` belongs to a profile, so `docker compose up` starts the single embedded server.
    for (const s of services.filter((x) => x !== 'hark'))
      expect(serviceBlock(text, s), `service ${s} has no profile`).toMatch(/\n {4}profiles:\n {4}- \w+/);
    for (const s of CLUSTER) expect(listOf(serviceBlock(text, s), 'profiles')).toEqual(['cluster']);
    expect(serviceBlock(text, 'hark')).not.toMatch(/\n {4}profiles:/);
    expect(serviceBlock(text, 'postgres')).toMatch(/image: postgres:\d+/);
    expect(serviceBlock(text, 'redis')).toMatch(/image: redis:\d+/);
  });

  test('each instance runs `hark serve` on PostgreSQL and Redis under its own --instance name', () => {
    const text = compose(['--profile', 'cluster', 'config'], { HARK_POSTGRES_PASSWORD: 'pw' });
    const known = serveOptions();
    const pending = CLUSTER_OPTIONS.filter((o) => !known.has(o));
    if (pending.length > 0)
      console.warn(
        `test/deploy/compose.test.ts: this build's \`hark serve --help\` lacks ${pending.join(', ')} (issue 17, ` +
          'being added on other branches); checking their values but not that the command accepts them',
      );
    for (const name of INSTANCES) {
      const block = serviceBlock(text, name);
      const argv = listOf(block, 'command');
      const at = argv.indexOf('serve') + 1;
      expect(argv.slice(0, at)).toEqual(['node', ...NODE_FLAGS, 'apps/cli/bin/hark.js', 'serve']);
      const opts = new Map<string, string>();
      for (let k = at; k < argv.length; k += 2) {
        if (!pending.includes(argv[k]))
          expect(known, `hark serve has no option ${argv[k]}`).toContain(argv[k]);
        expect(argv[k + 1], `${argv[k]} needs a value`).toMatch(/^[^-]/);
        opts.set(argv[k], argv[k + 1]);
      }
      expect(opts.get('--host')).toBe('0.0.0.0');
      expect(opts.get('--port')).toBe('8080');
      expect(opts.get('--database')).toBe('postgres://hark:pw@postgres:5432/hark');
      expect(opts.get('--redis')).toBe('redis://redis:6379');
      expect(opts.get('--instance')).toBe(name);
      expect(block).toMatch(/postgres:\n\s+condition: service_healthy/);
      expect(block).toMatch(/redis:\n\s+condition: service_healthy/);
      expect(block).toMatch(/healthcheck:[\s\S]*\/api\/health/);
    }
    expect(serviceBlock(text, 'postgres')).toMatch(/POSTGRES_PASSWORD: pw/);
  });

  test('no shared volume: each instance keeps its data directory (its blob cache) in a volume of its own', () => {
    const text = compose(['--profile', 'cluster', 'config'], { HARK_POSTGRES_PASSWORD: 'pw' });
    const sources = INSTANCES.map((name) => {
      // The volumes list may end the block (no newline after it): read it with its own pattern.
      const list = /\n {4}volumes:\n((?: {4}- .*(?:\n|$))+)/.exec(serviceBlock(text, name))?.[1] ?? '';
      const mounts = list
        .split('\n')
        .map((l) => l.replace(/^\s*- /, ''))
        .filter((v) => /:\/data(:|$)/.test(v));
      expect(mounts, `${name} mounts one volume at /data`).toHaveLength(1);
      return mounts[0].split(':')[0];
    });
    expect(new Set(sources).size).toBe(INSTANCES.length);
    expect(sources).not.toContain('hark-data');
  });

  test('the balancer is the official HAProxy image with the repository config, published on 8081', () => {
    const text = compose(['--profile', 'cluster', 'config']);
    const lb = serviceBlock(text, 'hark-lb');
    expect(lb).toMatch(/image: haproxy:[\w.-]+/);
    expect(lb).toMatch(/target: 8080/);
    expect(lb).toMatch(/published: "?8081"?/);
    expect(lb).toContain(`${join(REPO, HAPROXY_CFG)}:/usr/local/etc/haproxy/haproxy.cfg:ro`);
    // It does not take the single server's port: both can run side by side.
    expect(compose(['--profile', 'cluster', 'config'], { HARK_CLUSTER_PORT: '9091' })).toMatch(
      /published: "?9091"?/,
    );
  });
});

describe(`${HAPROXY_CFG}`, () => {
  const cfg = existsSync(join(REPO, HAPROXY_CFG)) ? read(HAPROXY_CFG) : '';
  const lines = cfg
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);

  test('balances over exactly the three instances at their port, checked on /api/health, sticky by source', () => {
    expect(lines).toContain('bind :8080');
    const servers = lines.filter((l) => l.startsWith('server ')).map((l) => l.split(/\s+/).slice(1, 3));
    expect(servers).toEqual(INSTANCES.map((n) => [n, `${n}:8080`]));
    expect(lines).toContain('option httpchk GET /api/health');
    expect(read('apps/server/src/http/health.controller.ts')).toMatch(/@Controller\('api\/health'\)/);
    // socket.io long-polling needs every request of a session on one instance; websockets need a long tunnel.
    expect(lines).toContain('balance source');
    expect(lines.find((l) => l.startsWith('timeout tunnel'))).toBeDefined();
  });

  const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (haproxy.error)
    console.warn(
      `test/deploy/compose.test.ts: haproxy is not installed (scripts/install-system-deps.sh installs it); ` +
        `skipping \`haproxy -c -f ${HAPROXY_CFG}\``,
    );
  test.skipIf(Boolean(haproxy.error))('haproxy -c accepts it', () => {
    const r = spawnSync('haproxy', ['-c', '-f', join(REPO, HAPROXY_CFG)], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Configuration file is valid/);
  });
});
