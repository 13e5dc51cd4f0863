/** Names of the store's files inside the data directory. */

/** The SQLite database. */
export const DATABASE_FILE = 'hark.db';

/** Folder of the rolling backups. */
export const BACKUP_DIR = 'backups';
