/**
 * The schema, as an append-only list of migrations: version n runs once, in a transaction, on a file at
 * version n - 1. Never edit a released migration; add the next one. Times are ms since the epoch.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE tokens (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        name         TEXT    NOT NULL,
        role         TEXT    NOT NULL CHECK (role IN ('sensor', 'operator', 'admin')),
        hash         TEXT    NOT NULL UNIQUE, -- sha256 hex of the secret
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
      );

      CREATE TABLE sensors (
        id            TEXT    PRIMARY KEY,
        name          TEXT    NOT NULL,
        labels        TEXT    NOT NULL DEFAULT '{}', -- JSON object of strings
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        snoozed_until INTEGER
      );

      CREATE TABLE alerts (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        sensor_id       TEXT    NOT NULL REFERENCES sensors (id),
        kind            TEXT    NOT NULL CHECK (kind IN ('anomaly', 'silence')),
        state           TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
        active          INTEGER NOT NULL DEFAULT 1,
        start_at        INTEGER NOT NULL,
        end_at          INTEGER,
        peak_score      REAL    NOT NULL,
        peak_at         INTEGER NOT NULL,
        threshold       REAL    NOT NULL,
        boxes           TEXT    NOT NULL DEFAULT '[]', -- JSON AlertBox[]
        acknowledged_by TEXT,
        acknowledged_at INTEGER,
        resolved_by     TEXT,
        resolved_at     INTEGER,
        clip_start      INTEGER,
        clip_seconds    REAL,
        clip_available  INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX alerts_by_state ON alerts (state, start_at DESC);
      CREATE INDEX alerts_by_sensor ON alerts (sensor_id, start_at DESC);
      CREATE INDEX alerts_active ON alerts (active) WHERE active = 1;

      CREATE TABLE annotations (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        label    TEXT    NOT NULL CHECK (label IN ('true fault', 'false alarm', 'maintenance', 'unknown')),
        text     TEXT    NOT NULL DEFAULT '',
        author   TEXT    NOT NULL,
        at       INTEGER NOT NULL
      );
      CREATE INDEX annotations_by_alert ON annotations (alert_id, at);
      CREATE INDEX annotations_by_label ON annotations (label, alert_id);

      -- ~2 rows per second per sensor: clustered by (sensor, time), no rowid.
      CREATE TABLE scores (
        sensor_id TEXT    NOT NULL,
        t         INTEGER NOT NULL,
        score     REAL    NOT NULL,
        PRIMARY KEY (sensor_id, t)
      ) WITHOUT ROWID;

      CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        sensor_id   TEXT    NOT NULL,
        alert_id    INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        windows     INTEGER NOT NULL,
        patches     INTEGER NOT NULL,
        path        TEXT    NOT NULL, -- the patch embeddings file (DATA/feedback/<sensor>/<id>.f32)
        created_by  TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        reverted_by TEXT,
        reverted_at INTEGER
      );
      CREATE INDEX feedback_by_sensor ON feedback (sensor_id, created_at);
      CREATE INDEX feedback_by_alert ON feedback (alert_id, id);

      CREATE TABLE models (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        sensor_id        TEXT    NOT NULL,
        source           TEXT    NOT NULL CHECK (source IN ('enrol', 'upload', 'directory')),
        fitted_at        TEXT,   -- ISO 8601, as in model.json
        training_seconds REAL,
        training_clips   INTEGER,
        method           TEXT,
        backbone         TEXT,
        bank_size        INTEGER,
        threshold        REAL,
        error            TEXT,   -- set when the fit failed
        recorded_at      INTEGER NOT NULL
      );
      CREATE INDEX models_by_sensor ON models (sensor_id, id);

      CREATE TABLE webhook_outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        event           TEXT    NOT NULL,
        payload         TEXT    NOT NULL, -- JSON of the alert (or other subject)
        created_at      INTEGER NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        done_at         INTEGER
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
    `,
  },
  {
    version: 2,
    name: 'storage probe',
    sql: `
      -- One row, rewritten while writes fail, to learn when the disk takes writes again.
      CREATE TABLE storage_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'sensor tokens bound to sensor ids',
    sql: `
      -- JSON array of the sensor ids a sensor token may stream as; NULL: not bound yet (it is bound to the
      -- first id it streams as). Tokens of the other roles keep NULL.
      ALTER TABLE tokens ADD COLUMN sensors TEXT;
    `,
  },
  {
    version: 4,
    name: 'notification channels, rules, deliveries and escalations',
    sql: `
      -- Where messages go. config: JSON of the kind's settings without secrets; secret: JSON of the secret
      -- fields (webhook secret, Slack / Teams URL, SMTP / MQTT password), never returned by the API.
      CREATE TABLE notify_channels (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        name       TEXT    NOT NULL UNIQUE,
        kind       TEXT    NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams', 'email', 'mqtt')),
        config     TEXT    NOT NULL DEFAULT '{}',
        secret     TEXT    NOT NULL DEFAULT '{}',
        enabled    INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      -- Which alerts go to which channel. JSON: sensor_ids string[], labels {key: value}, severities and
      -- events string[], quiet_hours {start, end, timeZone} or NULL.
      CREATE TABLE notify_rules (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        name                TEXT    NOT NULL,
        enabled             INTEGER NOT NULL DEFAULT 1,
        channel_id          INTEGER NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
        sensor_ids          TEXT    NOT NULL DEFAULT '[]',
        labels              TEXT    NOT NULL DEFAULT '{}',
        severities          TEXT    NOT NULL DEFAULT '["warning","critical"]',
        events              TEXT    NOT NULL DEFAULT '["alert.opened"]',
        quiet_hours         TEXT,
        escalate_minutes    REAL,
        escalate_channel_id INTEGER REFERENCES notify_channels (id) ON DELETE SET NULL,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL
      );

      -- Every message to a channel: the outbox (pending ones are sent, retried) and the record shown on the
      -- alert's page. Channel name and kind are copied so the record outlives the channel.
      CREATE TABLE notify_deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id        INTEGER REFERENCES alerts (id) ON DELETE CASCADE, -- NULL: a channel test
        channel_id      INTEGER REFERENCES notify_channels (id) ON DELETE SET NULL,
        channel_name    TEXT    NOT NULL,
        channel_kind    TEXT    NOT NULL,
        rule_id         INTEGER REFERENCES notify_rules (id) ON DELETE SET NULL,
        event           TEXT    NOT NULL,
        payload         TEXT    NOT NULL, -- JSON of the alert as it was
        state           TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'failed', 'suppressed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        done_at         INTEGER,
        error           TEXT
      );
      CREATE INDEX notify_deliveries_by_alert ON notify_deliveries (alert_id, id);
      CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_attempt_at);

      -- An escalation waiting for its time: sent then if the alert is still open, else cancelled.
      CREATE TABLE notify_escalations (
        alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        rule_id  INTEGER NOT NULL REFERENCES notify_rules (id) ON DELETE CASCADE,
        due_at   INTEGER NOT NULL,
        state    TEXT    NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'sent', 'cancelled')),
        done_at  INTEGER,
        PRIMARY KEY (alert_id, rule_id)
      );
      CREATE INDEX notify_escalations_due ON notify_escalations (state, due_at);
    `,
  },
  {
    version: 5,
    name: 'alert lifecycle: severity, repeats folded into occurrences, auto-resolve',
    sql: `
      -- Only ever rises; set from the peak and the longest occurrence against the sensor's thresholds.
      ALTER TABLE alerts ADD COLUMN severity TEXT NOT NULL DEFAULT 'warning'
        CHECK (severity IN ('warning', 'critical'));
      ALTER TABLE alerts ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1; -- rows in alert_occurrences
      ALTER TABLE alerts ADD COLUMN closed_at INTEGER;  -- server ms: the last occurrence ended (any reason)
      ALTER TABLE alerts ADD COLUMN cleared_at INTEGER; -- server ms: ... and its condition was seen to clear
      ALTER TABLE alerts ADD COLUMN auto_resolved INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX alerts_by_sensor_kind ON alerts (sensor_id, kind, id);
      CREATE INDEX alerts_cleared ON alerts (cleared_at) WHERE state != 'resolved' AND active = 0;

      -- Every time an alert's condition held; repeats within the repeat window fold into one alert.
      CREATE TABLE alert_occurrences (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id   INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        start_at   INTEGER NOT NULL, -- stream ms
        end_at     INTEGER,
        peak_score REAL    NOT NULL,
        peak_at    INTEGER NOT NULL,
        opened_at  INTEGER NOT NULL, -- server ms
        cleared_at INTEGER
      );
      CREATE INDEX alert_occurrences_by_alert ON alert_occurrences (alert_id, id);
      -- Alerts stored before: one occurrence each (server times unknown: their stream times stand in).
      INSERT INTO alert_occurrences (alert_id, start_at, end_at, peak_score, peak_at, opened_at)
        SELECT id, start_at, end_at, peak_score, peak_at, start_at FROM alerts ORDER BY id;

      -- A sensor's own severity thresholds (NULL: the server's defaults).
      ALTER TABLE sensors ADD COLUMN critical_peak REAL;
      ALTER TABLE sensors ADD COLUMN critical_seconds REAL;
    `,
  },
  {
    version: 6,
    name: 'spectrogram history',
    sql: `
      -- Quantised log-mel and anomaly columns (one byte per cell, frame-major [n_columns, n_mels], the live
      -- encoding of live/quantise.ts), one row per sensor, tier and block of consecutive columns. Tier 0 is
      -- full resolution, tiers 1 and 2 reduced ones (the max per mel band over each reduce window; 2's are
      -- 60 times wider).
      CREATE TABLE history_blocks (
        id            INTEGER PRIMARY KEY,
        sensor_id     TEXT    NOT NULL,
        tier          INTEGER NOT NULL CHECK (tier IN (0, 1, 2)),
        t0            REAL    NOT NULL, -- time of the first column, ms
        t1            REAL    NOT NULL, -- end of the last column (t0 + n_columns * hop_ms), ms
        hop_ms        REAL    NOT NULL,
        n_mels        INTEGER NOT NULL,
        n_columns     INTEGER NOT NULL,
        db_lo         REAL    NOT NULL,
        db_hi         REAL    NOT NULL,
        anomaly_scale REAL    NOT NULL,
        spectrogram   BLOB    NOT NULL,
        anomaly       BLOB    NOT NULL
      );
      CREATE INDEX history_by_sensor ON history_blocks (sensor_id, tier, t0);
      -- Retention and the disk budget delete the oldest blocks first.
      CREATE INDEX history_by_end ON history_blocks (t1);
    `,
  },
  {
    version: 7,
    name: 'daily score percentiles',
    sql: `
      -- One row per sensor and whole UTC day (day = its midnight, ms): percentiles of the normalised score,
      -- kept after the day's points are pruned from scores, so trends reach back further than they do.
      CREATE TABLE score_days (
        sensor_id TEXT    NOT NULL,
        day       INTEGER NOT NULL,
        n         INTEGER NOT NULL,
        p50       REAL    NOT NULL,
        p90       REAL    NOT NULL,
        p99       REAL    NOT NULL,
        max       REAL    NOT NULL,
        PRIMARY KEY (sensor_id, day)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'deleted sensors',
    sql: `
      -- DELETE /api/sensors/:id: the sensor leaves the list, while its alerts (which reference it) keep its
      -- name and labels for the record. A new registration of the id clears it.
      ALTER TABLE sensors ADD COLUMN deleted_at INTEGER;
    `,
  },
];
