#!/usr/bin/env node
// The `hark` command. Runs the compiled CLI; tells the user how to build it when it is missing.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'hark: the CLI is not built yet; run `npm run build` (or `make build`) at the repository root',
  );
  process.exit(1);
}
await import(main.href);
