/**
 * The e2e project's global setup: an empty directory for the run's shared fitted models (`models.ts` fits into
 * it on first use), provided to the test files as `harkModelCache` and removed after the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'hark-model-cache-'));
  project.provide('harkModelCache', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
