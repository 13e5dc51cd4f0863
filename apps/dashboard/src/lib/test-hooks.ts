/**
 * Whether the browser-test hooks (`window.__harkColumns`, `__harkFps`, `__harkFpsStats`, `__harkLive`) are
 * compiled in: only in the browser tests' build (`HARK_TEST_HOOKS=1`, see vite.config.ts), which the
 * bundler folds to `false` and drops everywhere else.
 */
declare const __HARK_TEST_HOOKS__: boolean | undefined;

export const TEST_HOOKS: boolean = typeof __HARK_TEST_HOOKS__ !== 'undefined' && __HARK_TEST_HOOKS__ === true;
