import { defineConfig } from 'vitest/config';

/**
 * One vitest run over every workspace. Workspace packages resolve to their TypeScript sources through the
 * `source` export condition, so tests never depend on a stale `dist/`.
 */
const conditions = ['source', 'node', 'import', 'default'];

const project = (name: string, root: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, root, include: ['test/**/*.test.ts'], ...extra },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      project('dsp', 'libs/dsp'),
      project('native', 'native'),
      project('detection', 'libs/detection'),
      project('cli', 'apps/cli'),
    ],
  },
});
