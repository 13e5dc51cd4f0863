#!/usr/bin/env node
// Type-checks sources and tests and lints them (two checks, each counted as a test), then runs every
// workspace's tests in one vitest run, and ends with the totals line CI reads: `N passed, N failed, N skipped`.
// Extra arguments go to vitest (e.g. a project filter); HARK_SKIP_CHECKS=1 skips the type check and lint.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

let checksFailed = 0;
let checksPassed = 0;
if (process.env.HARK_SKIP_CHECKS !== '1') {
  for (const [what, cmd] of [
    ['type check (tsc -p tsconfig.test.json)', ['npx', 'tsc', '-p', 'tsconfig.test.json']],
    ['lint (eslint, prettier --check)', ['npm', 'run', 'lint', '--silent']],
  ]) {
    console.log(`== ${what}`);
    const check = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
    if (check.status === 0) checksPassed++;
    else {
      checksFailed++;
      console.log(`== ${what} FAILED`);
    }
  }
}

const report = '.vitest-report.json';
rmSync(report, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
const run = spawnSync('npx', [...args, ...process.argv.slice(2)], { stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  skipped = r.numPendingTests + r.numTodoTests;
  // A file that fails to load has no tests of its own: count it as a failure so the line never hides it.
  const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0);
  failed = r.numFailedTests + brokenFiles.length;
} else {
  failed = 1;
}
let code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
passed += checksPassed;
failed += checksFailed;
if (checksFailed) code = code || 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
