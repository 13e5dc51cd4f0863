import type { Command } from 'commander';
import { backupDataDir, resolveServerConfig, restoreDatabase, sqliteOnly } from '@hark/server';

export interface BackupOptions {
  data?: string;
  out?: string;
}

/** `hark backup`: an online copy of the data directory's database (the server may be running). */
export async function runBackup(o: BackupOptions): Promise<void> {
  const { dataDir, database } = resolveServerConfig({ dataDir: o.data });
  if (database) throw new Error(sqliteOnly('hark backup', database));
  const r = await backupDataDir(dataDir, o.out);
  console.log(`backed up ${dataDir}/hark.db to ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB)`);
}

export interface RestoreOptions {
  data?: string;
}

/** `hark restore FILE`: checks the backup, then replaces the database (only while no server runs). */
export function runRestore(file: string, o: RestoreOptions): void {
  const { dataDir, database } = resolveServerConfig({ dataDir: o.data });
  if (database) throw new Error(sqliteOnly('hark restore', database));
  const r = restoreDatabase(dataDir, file);
  console.log(
    `restored ${dataDir}/hark.db from ${file} (integrity check ok, schema version ${r.schemaVersion}, ` +
      `${r.alerts} alerts, ${r.tokens} tokens)`,
  );
  if (r.previous) console.log(`the database it replaced is kept as ${r.previous}`);
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      "copy the server's database (SQLite online backup: works while the server runs); the server also keeps rolling backups in DATA/backups",
    )
    .option('--data <dir>', 'data directory of the server (default: $HARK_DATA, else ./data)')
    .option('--out <file>', 'write the copy here (default: DATA/backups/hark-<time>.db)')
    .action((o: BackupOptions) => runBackup(o));
  program
    .command('restore')
    .description(
      'replace the database with a backup, after an integrity check (the server must be stopped; the old database is kept beside it)',
    )
    .argument('<file>', 'the backup, e.g. DATA/backups/hark-2026-12-04T11-40-00-000Z.db')
    .option('--data <dir>', 'data directory of the server (default: $HARK_DATA, else ./data)')
    .action((file: string, o: RestoreOptions) => runRestore(file, o));
}
