#!/usr/bin/env node
// Type-checks sources and tests (one check: it counts as a test), then runs every workspace's tests in one
// vitest run, and ends with the totals line CI reads: `N passed, N failed, N skipped`. Extra arguments go to
// vitest (e.g. a project filter); HARK_SKIP_TYPECHECK=1 skips the type check.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

let typecheckFailed = 0;
let typecheckPassed = 0;
if (process.env.HARK_SKIP_TYPECHECK !== '1') {
  console.log('type-checking sources and tests (tsc -p tsconfig.test.json)');
  const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.test.json'], { stdio: 'inherit' });
  if (tsc.status === 0) typecheckPassed = 1;
  else typecheckFailed = 1;
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
passed += typecheckPassed;
failed += typecheckFailed;
if (typecheckFailed) code = code || 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
