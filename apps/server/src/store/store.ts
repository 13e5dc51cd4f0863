import { AlertMediaRepository } from './alert-media.repository.js';
import { AlertRepository } from './alert.repository.js';
import { BlobRepository } from './blob.repository.js';
import { BurnInRepository } from './burn-in.repository.js';
import { HarkDatabase, type DatabaseLocation, type HarkDatabaseOptions } from './database.js';
import { FeedbackRepository } from './feedback.repository.js';
import { HistoryRepository } from './history.repository.js';
import { TrendRepository } from './trend.repository.js';
import { ModelRepository } from './model.repository.js';
import { ModelVersionRepository } from './model-version.repository.js';
import { NotificationRepository } from './notification.repository.js';
import { WebhookOutboxRepository } from './outbox.repository.js';
import { ScoreRepository, type ScoreRepositoryOptions } from './score.repository.js';
import { SensorRepository } from './sensor.repository.js';
import { StorageHealth, type StorageHealthOptions } from './storage-health.js';
import { TokenRepository } from './token.repository.js';

export interface HarkStoreOptions extends HarkDatabaseOptions {
  scores?: ScoreRepositoryOptions;
  /** Logging and counting of failed writes. */
  health?: StorageHealthOptions;
}

/** The database and every repository over it, for wiring in one line. */
export class HarkStore {
  readonly database: HarkDatabase;
  readonly tokens: TokenRepository;
  readonly sensors: SensorRepository;
  readonly alerts: AlertRepository;
  readonly scores: ScoreRepository;
  readonly feedback: FeedbackRepository;
  readonly models: ModelRepository;
  readonly outbox: WebhookOutboxRepository;
  readonly history: HistoryRepository;
  readonly trends: TrendRepository;
  readonly notifications: NotificationRepository;
  /** Content-addressed bytes: model files and alert media. */
  readonly blobs: BlobRepository;
  /** Model versions (their files as blobs) and each sensor's active one, for every instance. */
  readonly modelVersions: ModelVersionRepository;
  /** Which blobs hold each alert's clip, pictures and feedback arrays. */
  readonly alertMedia: AlertMediaRepository;
  /** Live burn-ins of model versions (migration 11). */
  readonly burnIns: BurnInRepository;
  /** Whether writes succeed; the data path's writes report to it (`attempt`). */
  readonly health: StorageHealth;

  /** Opens (and migrates) the store at `location`: SQLite in a data directory, or PostgreSQL. */
  static async open(location: DatabaseLocation, options: HarkStoreOptions = {}): Promise<HarkStore> {
    return new HarkStore(await HarkDatabase.open(location, options), options);
  }

  /** Opens (and migrates) `<dataDir>/hark.db`; or takes a database opened with `HarkDatabase.open`. */
  constructor(source: string | HarkDatabase, options: HarkStoreOptions = {}) {
    this.database = typeof source === 'string' ? new HarkDatabase(source, options) : source;
    this.tokens = new TokenRepository(this.database);
    this.sensors = new SensorRepository(this.database);
    this.alerts = new AlertRepository(this.database);
    this.scores = new ScoreRepository(this.database, options.scores);
    this.feedback = new FeedbackRepository(this.database);
    this.models = new ModelRepository(this.database);
    this.outbox = new WebhookOutboxRepository(this.database);
    this.history = new HistoryRepository(this.database);
    this.trends = new TrendRepository(this.database);
    this.notifications = new NotificationRepository(this.database);
    this.blobs = new BlobRepository(this.database);
    this.modelVersions = new ModelVersionRepository(this.database, this.blobs);
    this.alertMedia = new AlertMediaRepository(this.database, this.blobs);
    this.burnIns = new BurnInRepository(this.database);
    this.health = new StorageHealth({ ...options.health, engine: this.database.engine });
    this.health.addRetry('probe', async () => {
      await this.database.probe(Date.now());
      return 0;
    });
    if (this.database.readOnlyReason) this.health.startedReadOnly(this.database.readOnlyReason);
  }

  get engine(): 'sqlite' | 'postgres' {
    return this.database.engine;
  }

  /** Flushes buffered scores and closes the database; later calls do nothing (and wait for the first). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.health.close();
      await this.health.attempt('scores', () => this.scores.flush());
      await this.database.close();
    })();
    return this.#closing;
  }

  #closing: Promise<void> | null = null;
}
