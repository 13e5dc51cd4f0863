/** @hark/server: the hark server (`createServer`), and its wire contracts re-exported from `@hark/protocol`. */
export * from '@hark/protocol';
export { createServer, defaultDashboardDir, type HarkServer } from './server.js';
export {
  ConfigError,
  resolveServerConfig,
  SERVER_DEFAULTS,
  type ServerConfig,
  type ServerOptions,
} from './config.js';
export { TokenService } from './auth/token.service.js';
export { LIVE_HUB_DEFAULTS, type LiveHub, type LiveClientStats } from './live/live-hub.js';
export { DataDirLockedError, LOCK_FILE } from './data-lock.js';
export { HarkStore } from './store/store.js';
export { CorruptDatabaseError } from './store/database.js';
export {
  backupDataDir,
  sqliteOnly,
  checkDatabaseFile,
  listBackups,
  restoreDatabase,
  BACKUP_DIR,
  type BackupResult,
  type RestoreResult,
} from './store/backup.js';
export type { HistoryBlock } from './store/history.repository.js';
export {
  COARSE_BLOCK_COLUMNS,
  COARSE_FACTOR,
  FULL_BLOCK_MS,
  HistoryService,
  REDUCED_BLOCK_COLUMNS,
} from './history/history.service.js';
export { verifySignature } from './notify/signature.js';
export { AlertTracker, type ScoredWindow, type TrackedAlert } from './alerts/alert-tracker.js';
export { onTurn } from './scoring/hop-governor.js';
