/**
 * A PostgreSQL that cannot be reached fails fast and is known as such, never a hang: a refused port at once,
 * and a host that takes the connection but never answers (a stalled server, a half-open path) within the
 * pool's connect timeout (`POSTGRES_CONNECT_TIMEOUT_MS`). Both errors are storage failures of an unreachable
 * database (health `storage unreachable`, REST 503, data-path writes queued). No PostgreSQL is needed: the
 * silent server is a real TCP listener that accepts and says nothing. And a real PostgreSQL stopped while a
 * connection is in use (inside a transaction) costs no uncaught exception, and the pool works again once it is
 * back.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresOrWarn, startPostgres, type Postgres } from '../../../../test/support/postgres.js';
import { HarkDatabase, POSTGRES_CONNECT_TIMEOUT_MS } from '../../src/store/database.js';
import { isStorageFailure, isUnreachable } from '../../src/store/storage-health.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('PostgreSQL out of reach', () => {
  const held: import('node:net').Socket[] = [];
  const silent = createServer((socket) => void held.push(socket));
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a refused port fails at once, as an unreachable database', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const err = await HarkDatabase.open({
      engine: 'postgres',
      url: `postgres://hark@127.0.0.1:${port}/hark`,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isStorageFailure(err) && isUnreachable(err)).toBe(true);
  });

  it('a server that never answers fails after the connect timeout, as an unreachable database', async () => {
    const port = await listen(silent);
    const started = Date.now();
    const err = await HarkDatabase.open({
      engine: 'postgres',
      url: `postgres://hark@127.0.0.1:${port}/hark`,
    }).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(Error);
    expect(isStorageFailure(err), (err as Error).message).toBe(true);
    expect(isUnreachable(err), (err as Error).message).toBe(true);
    // It gave up by the timeout (not the kernel's minutes), and not before it.
    expect(waited).toBeGreaterThanOrEqual(POSTGRES_CONNECT_TIMEOUT_MS - 50);
    expect(held.length).toBeGreaterThan(0);
  }, 30_000);
});

describe.runIf(postgresOrWarn('a PostgreSQL connection lost while in use'))(
  'PostgreSQL stopped under a query',
  () => {
    let pg: Postgres | null = null;
    afterAll(async () => {
      await pg?.stop();
    });

    it('fails the transaction as a storage failure, crashes nothing, and the pool reconnects', async () => {
      pg = await startPostgres();
      const database = await HarkDatabase.open({ engine: 'postgres', url: pg.url });
      const uncaught: unknown[] = [];
      const onUncaught = (err: unknown) => uncaught.push(err);
      process.on('uncaughtException', onUncaught);
      try {
        // The connection is checked out (a transaction between two statements) when PostgreSQL goes away.
        const failed = await database.db
          .transaction()
          .execute(async (trx) => {
            await trx.selectFrom('schema_version').select('version').execute();
            pg!.halt();
            await new Promise((r) => setTimeout(r, 200));
            await trx.selectFrom('schema_version').select('version').execute();
          })
          .then(
            () => null,
            (err: unknown) => err,
          );
        expect(isStorageFailure(failed), String(failed)).toBe(true);
        expect(isUnreachable(failed), String(failed)).toBe(true);
        await expect(database.probe(1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        pg.restart();
        await database.probe(2);
        expect(await database.schemaVersion()).toBeGreaterThan(0);
        expect(uncaught).toEqual([]);
      } finally {
        process.off('uncaughtException', onUncaught);
        await database.close();
      }
    }, 60_000);
  },
);
