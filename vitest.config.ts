import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * One vitest run over every workspace. Workspace packages resolve to their TypeScript sources through the
 * `source` export condition, so tests never depend on a stale `dist/`.
 */
const conditions = ['source', 'node', 'default'];

/**
 * Every project's setup file: it removes the temporary directories a test file made with
 * `test/support/temp.ts` once the file's own hooks have run.
 */
const cleanup = fileURLToPath(new URL('./test/support/cleanup.ts', import.meta.url));

const project = (
  name: string,
  root: string,
  extra: Record<string, unknown> = {},
  plugins: unknown[] = [],
) => ({
  extends: true as const,
  plugins,
  test: { name, root, include: ['test/**/*.test.ts'], setupFiles: [cleanup], ...extra },
});

/** NestJS needs decorator metadata, which esbuild does not emit: swc compiles the server's TypeScript. */
export const swcPlugin = () =>
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
  });

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      project('protocol', 'libs/protocol'),
      project('dsp', 'libs/dsp'),
      project('native', 'native'),
      project('detection', 'libs/detection'),
      project('cli', 'apps/cli'),
      project('server', 'apps/server', {}, [swcPlugin()]),
      // Single-file components compile for the banner's render test (`renderToString`, no DOM needed).
      project('dashboard', 'apps/dashboard', {}, [vue()]),
      // Real servers, ports, Chromium and timing; a fitted model shared by the files (test/support/models.ts)
      // in a directory made for the run. Files run as many at once as there are workers (two on the 2-core
      // CI machines): each gets its own ports (0 or freePort), temp directories and services, and much of an
      // e2e file's time is spent waiting on streamed sound, so two at once took 841 s against 1192 s one at
      // a time (all 475 tests passed). HARK_E2E_SERIAL=1 runs them one at a time, to tell a timing failure
      // from a real one.
      project(
        'e2e',
        'test',
        {
          include: ['**/*.test.ts'],
          fileParallelism: process.env.HARK_E2E_SERIAL !== '1',
          globalSetup: [fileURLToPath(new URL('./test/support/global-setup.ts', import.meta.url))],
        },
        [swcPlugin()],
      ),
    ],
  },
});
