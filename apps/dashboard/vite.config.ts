import vue from '@vitejs/plugin-vue';
import { defaultClientConditions, defineConfig } from 'vite';

/** The dashboard is served by the hark server at `/`; in development Vite proxies the API and socket.io to it. */
const server = process.env.HARK_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [vue()],
  // The browser-test hooks (`src/lib/test-hooks.ts`) exist only in the browser tests' build.
  define: { __HARK_TEST_HOOKS__: JSON.stringify(process.env.HARK_TEST_HOOKS === '1') },
  // Workspace libraries (`@hark/protocol`) resolve to their TypeScript sources, as in the tests.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
    },
  },
});
