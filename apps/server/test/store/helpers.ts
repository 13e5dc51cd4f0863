import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { HarkStore, type HarkStoreOptions } from '../../src/store/index.js';
import { tempDir as sharedTempDir } from '../../../../test/support/temp.js';
import { postgresOrWarn, startPostgres, type Postgres } from '../../../../test/support/postgres.js';

/** A fresh temporary directory, removed after the file's tests (`test/support/temp.ts`). */
export function tempDir(): string {
  return sharedTempDir('store');
}

/** A store on a real file in a temporary directory, closed after the test. */
export function tempStore(options: HarkStoreOptions = {}): { store: HarkStore; dir: string } {
  const dir = tempDir();
  const store = new HarkStore(dir, options);
  afterEach(() => store.close());
  return { store, dir };
}

export type Engine = 'sqlite' | 'postgres';

/**
 * The engines a store test runs on: SQLite always, and a real PostgreSQL 15 (started before the file's tests,
 * stopped after) where it is installed, else skipped with `what` in the message. `open` gives a fresh
 * database of the engine: a new directory, or a new PostgreSQL database.
 */
export function storeEngines(what: string): {
  engines: Engine[];
  hasPostgres: boolean;
  postgresUrl: () => string;
  open: (engine: Engine) => Promise<HarkStore>;
} {
  const hasPostgres = postgresOrWarn(what);
  let pg: Postgres | null = null;
  let databases = 0;
  beforeAll(async () => {
    if (hasPostgres) pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.stop());
  return {
    engines: hasPostgres ? ['sqlite', 'postgres'] : ['sqlite'],
    hasPostgres,
    postgresUrl: () => pg!.url,
    async open(engine) {
      if (engine === 'sqlite') return HarkStore.open({ engine: 'sqlite', dataDir: tempDir() });
      const admin = await HarkStore.open({ engine: 'postgres', url: pg!.url });
      const name = `hark_${++databases}`;
      await sql.raw(`CREATE DATABASE ${name}`).execute(admin.database.db);
      await admin.close();
      return HarkStore.open({ engine: 'postgres', url: pg!.url.replace(/\/hark$/, `/${name}`) });
    },
  };
}
