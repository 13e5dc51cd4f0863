#!/usr/bin/env node
// Type-checks sources and tests and lints them (two checks, each counted as a test), then runs the tests and
// ends with the totals line CI reads: `N passed, N failed, N skipped`, summed over every run below.
//
// Runs: every project except `native` once, in the environment as given; then the `native` project (the
// FAISS addon, its search and the fallback) once per OpenBLAS kernel family this CPU can run
// (native/scripts/kernel-families.mjs: unset, Haswell with OPENBLAS_L2_SIZE=512, SkylakeX with AVX-512).
// Exact search must answer the same on each (issue 12: a machine whose environment said Haswell once failed
// `make test`), and OpenBLAS picks its kernels when it loads, so each family needs its own process. A family
// the CPU lacks prints a SKIPPED line and counts as one skipped test, so the totals line shows it too.
//
// Temporary files: every run below gets TMPDIR set to one directory made for this invocation
// (`<tmpdir>/hark-test-XXXXXX`), so whatever a test, a server it starts or a service (PostgreSQL, Redis, Chromium)
// leaves behind is in one place and removed at the end; tests left about 2 GB in /tmp per run before. What is
// still there when the runs end was not removed by the test that made it: it is listed, and counted as a
// failed check, so a leak is fixed where it is made. HARK_KEEP_TMP=1 keeps the directory and what the tests made
// in it (its path is printed), for a failure's data directory; the check is then skipped.
//
// Extra arguments go to vitest: `--project <name>` selects projects as usual (`--project native` runs only
// the matrix), anything else (file filters, -t) goes to every run. HARK_SKIP_CHECKS=1 skips type check and lint.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { familyEnv, kernelFamilies } from '../native/scripts/kernel-families.mjs';

const totals = { passed: 0, failed: 0, skipped: 0 };
/** Every failed test or check, named again just above the totals line, so a log's tail says what failed. */
const failures = [];
let code = 0;

/** Runs `cmd` with its output held; resolves with its exit status and output once it exits. */
function runHeld(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => resolve({ status: null, out: `${out}${err.message}\n` }));
    child.on('close', (status) => resolve({ status, out }));
  });
}

/**
 * The type check and the lint run at once (each is one process on one core; together they took as long as
 * the slower of them); each one's output is printed whole when it is done, under its own heading.
 */
async function runChecks() {
  const checks = [
    ['type check (tsc -p tsconfig.test.json)', ['npx', 'tsc', '-p', 'tsconfig.test.json']],
    ['lint (eslint, prettier --check)', ['npm', 'run', 'lint', '--silent']],
  ];
  const results = await Promise.all(checks.map(([, cmd]) => runHeld(cmd)));
  checks.forEach(([what], i) => {
    console.log(`== ${what}`);
    process.stdout.write(results[i].out);
    if (results[i].status === 0) totals.passed++;
    else {
      totals.failed++;
      failures.push(what);
      code = code || 1;
      console.log(`== ${what} FAILED`);
    }
  });
}

/** The first line of a failure message, without colour codes, at most 300 characters. */
function firstLine(message) {
  const line =
    stripVTControlCharacters(message ?? '')
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line.trim();
}

/** Splits vitest arguments into the projects asked for and everything else. */
function parseArgs(argv) {
  const projects = [];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--project' && i + 1 < argv.length) projects.push(argv[++i]);
    else if (a.startsWith('--project=')) projects.push(a.slice('--project='.length));
    else rest.push(a);
  }
  return { projects, rest };
}

/** One vitest run; adds its counts to the totals. */
function vitest(label, args, env) {
  console.log(`== ${label}`);
  const report = '.vitest-report.json';
  rmSync(report, { force: true });
  const base = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const run = spawnSync('npx', [...base, ...args], { stdio: 'inherit', env });
  let counts = { passed: 0, failed: 1, skipped: 0 };
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    // A file that fails to load has no tests of its own: count it as a failure so the line never hides it.
    const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0);
    counts = {
      passed: r.numPassedTests,
      failed: r.numFailedTests + brokenFiles.length,
      skipped: r.numPendingTests + r.numTodoTests,
    };
    const where = (f) => relative(process.cwd(), f.name);
    for (const f of brokenFiles) failures.push(`${label}: ${where(f)} did not load: ${firstLine(f.message)}`);
    for (const f of r.testResults) {
      for (const t of f.assertionResults.filter((a) => a.status === 'failed')) {
        failures.push(`${label}: ${where(f)} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
      }
    }
    rmSync(report, { force: true });
  }
  if (run.status !== 0 && counts.failed === 0) {
    counts.failed = 1;
    failures.push(
      `${label}: vitest exited with ${run.status ?? run.signal} and no failed test in its report`,
    );
  }
  if (run.status !== 0) code = code || run.status || 1;
  for (const key of Object.keys(totals)) totals[key] += counts[key];
  console.log(`== ${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

if (process.env.HARK_SKIP_CHECKS !== '1') await runChecks();

// The run's temporary directory. World-traversable: PostgreSQL's tests run its server as `postgres`, in
// directories they make here and hand to that user.
const runTmp = mkdtempSync(join(tmpdir(), 'hark-test-'));
chmodSync(runTmp, 0o755);
const withTmp = (env) => ({ ...env, TMPDIR: runTmp });
const removeRunTmp = () => {
  if (process.env.HARK_KEEP_TMP !== '1') rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    removeRunTmp();
    process.exit(130);
  });
}

const { projects, rest } = parseArgs(process.argv.slice(2));
const wantsNative = projects.length === 0 || projects.includes('native');
const others = projects.filter((p) => p !== 'native');
if (projects.length === 0 || others.length > 0) {
  const select = projects.length === 0 ? ['!native'] : others;
  // One test file per core at once, e2e files included. vitest's default (cores - 1) ran one file at a time
  // on the 2-core machines this runs on. HARK_E2E_SERIAL=1 runs the e2e files one by one (vitest.config.ts).
  const workers = rest.some((a) => a.startsWith('--maxWorkers'))
    ? []
    : [`--maxWorkers=${availableParallelism()}`];
  vitest(
    'tests (every project but native), environment as given',
    [...select.flatMap((p) => ['--project', p]), ...workers, ...rest],
    withTmp(process.env),
  );
}
if (wantsNative) {
  // File filters meant for other projects leave a native run with nothing to do: that is not a failure.
  const filtered = rest.some((a) => !a.startsWith('-'));
  for (const family of kernelFamilies()) {
    const vars = Object.entries(family.env)
      .map(([name, value]) => (value === undefined ? `${name} unset` : `${name}=${value}`))
      .join(', ');
    const label = `native tests, OpenBLAS kernels ${family.name} (${vars})`;
    if (!family.available) {
      console.log(`== ${label}: SKIPPED, ${family.why}`);
      totals.skipped++;
      continue;
    }
    vitest(
      label,
      ['--project', 'native', ...(filtered ? ['--passWithNoTests'] : []), ...rest],
      withTmp(familyEnv(family)),
    );
  }
}

/**
 * Files onnxruntime-node 1.30 itself writes to the temporary directory of every process that opens a session
 * (an empty `mat-debug-<pid>.log`, and `.ses`), whatever hark does: not a test's leak.
 */
const runtimeFiles = /^(mat-debug-\d+\.log|\.ses)$/;

/**
 * What the tests left in the run's temporary directory, grouped by name without mkdtemp's random suffix
 * (`hark-store-a1B2c3` -> `hark-store-`), largest groups first.
 */
function leftovers(dir) {
  const groups = new Map();
  for (const name of readdirSync(dir)) {
    if (runtimeFiles.test(name)) continue;
    const key = name.replace(/[A-Za-z0-9]{6}$/, '');
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].sort((a, b) => b[1] - a[1]);
}

const left = leftovers(runTmp);
const check = 'temporary files (every test removes what it makes)';
console.log(`== ${check}`);
if (process.env.HARK_KEEP_TMP === '1') {
  // The tests keep theirs too (test/support/temp.ts), so there is nothing to check.
  console.log(`== ${check}: not checked (HARK_KEEP_TMP=1)`);
} else if (left.length === 0) {
  totals.passed++;
} else {
  totals.failed++;
  code = code || 1;
  const names = left.map(([name, n]) => `${name}* x${n}`).join(', ');
  failures.push(`${check}: left in ${runTmp}: ${names}`);
  console.log(`== ${check} FAILED: left in ${runTmp}: ${names}`);
}
if (process.env.HARK_KEEP_TMP === '1') console.log(`== temporary files kept in ${runTmp} (HARK_KEEP_TMP=1)`);
removeRunTmp();

if (failures.length > 0) {
  console.log(`== failed (${failures.length}):`);
  for (const f of failures) console.log(`   ${f}`);
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(code);
