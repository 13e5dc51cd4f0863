/**
 * Setup file of the e2e project. Its `afterAll` is registered before the test file's own hooks, and vitest
 * runs `after` hooks in reverse order (`sequence.hooks: 'stack'`), so the directories go once the file's
 * servers and child processes have been stopped.
 */
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.js';

afterAll(removeTempDirs);
