/** Persistence: the SQLite database, its migrations and one repository per table. */
export * from './alert.filters.js';
export * from './alert.repository.js';
export * from './backup.js';
export * from './database.js';
export * from './errors.js';
export * from './feedback.repository.js';
export * from './history.repository.js';
export * from './migrations.js';
export * from './model.repository.js';
export * from './notification.repository.js';
export * from './outbox.repository.js';
export * from './score.repository.js';
export * from './sensor.repository.js';
export * from './store.js';
export * from './token.repository.js';
export * from './trend.repository.js';
export * from './storage-health.js';
