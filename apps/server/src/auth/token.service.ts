import type { CreatedToken, Role, TokenInfo } from '@hark/protocol';
import { InvalidArgumentError } from '../store/errors.js';
import { isStorageFailure, StorageHealth } from '../store/storage-health.js';
import type { TokenRepository } from '../store/token.repository.js';
import { isRole, sensorIdProblem } from '@hark/protocol';
import { generateToken, hashToken } from './tokens.js';

export interface TokenServiceOptions {
  /** Clock, ms (tests). */
  now?: () => number;
  /** `lastUsedAt` is written at most once per this interval, ms (default 60 s), to keep reads read-only. */
  touchIntervalMs?: number;
  /** Where a failed `lastUsedAt` write is reported (it never fails the verification). */
  health?: StorageHealth;
  /** Sensor ids a sensor token may be bound to (`HARK_MAX_SENSORS_PER_TOKEN`; default the server's, 16). */
  maxSensorsPerToken?: number;
}

/** Default of {@link TokenServiceOptions.maxSensorsPerToken} (the server's `maxSensorsPerToken`). */
const MAX_SENSORS_PER_TOKEN = 16;

/**
 * While the store cannot answer (PostgreSQL down), a token this process verified against it within this
 * time is taken as it was then, so that a dashboard or a sensor that reconnects (or fails over from another
 * instance) during a short outage gets in. No revocation can be stored while the store is down, so the only
 * staleness is a revocation made shortly before the outage on another instance: it shows within this time.
 */
export const TOKEN_FALLBACK_MS = 10 * 60_000;
/** Tokens remembered for the fallback (the most recently verified): far more than one server's clients. */
const MAX_REMEMBERED_TOKENS = 10_000;

/** Name of the token `ensureAdmin` creates on first start. */
export const FIRST_ADMIN_NAME = 'first admin';

/** Issues, checks and revokes API tokens. Secrets are shown once, at creation; only their hash is kept. */
export class TokenService {
  private readonly now: () => number;
  private readonly touchIntervalMs: number;
  private readonly health: StorageHealth;
  readonly maxSensorsPerToken: number;
  /** Tokens verified against the store, by hash, with when (oldest first): the fallback while it is down. */
  readonly #verified = new Map<string, { token: TokenInfo; at: number }>();

  constructor(
    private readonly tokens: TokenRepository,
    options: TokenServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.health = options.health ?? new StorageHealth();
    this.maxSensorsPerToken = options.maxSensorsPerToken ?? MAX_SENSORS_PER_TOKEN;
  }

  /**
   * Creates a token; the answer's `token` is the secret, which cannot be recovered later. A sensor token
   * may be bound to the sensor ids it streams as (`sensors`); without them it is bound to the first it uses.
   */
  async create(role: Role, name: string, sensors?: readonly string[]): Promise<CreatedToken> {
    if (!isRole(role))
      throw new InvalidArgumentError(`role '${String(role)}' must be one of sensor, operator, admin`);
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed.length === 0 || trimmed.length > 100) {
      throw new InvalidArgumentError(`token name must be 1-100 characters, got ${JSON.stringify(name)}`);
    }
    const bound = sensors === undefined ? null : checkBinding(role, sensors, this.maxSensorsPerToken);
    const secret = generateToken();
    const info = await this.tokens.insert({
      name: trimmed,
      role,
      hash: hashToken(secret),
      createdAt: this.now(),
      sensors: bound,
    });
    return { ...info, token: secret };
  }

  /**
   * Null when `token` may stream as `sensorId`, else why not. Admin tokens stream as any sensor; a sensor
   * token as the ids it is bound to, and one not bound yet is bound to `sensorId` now (a write: when the
   * store refuses it, the stream is refused too, so that the binding cannot be skipped).
   */
  async streamAs(token: TokenInfo, sensorId: string): Promise<string | null> {
    if (token.role === 'admin') return null;
    if (token.role !== 'sensor') return `a ${token.role} token cannot stream audio; use a sensor token`;
    let sensors = token.sensors;
    if (sensors === null) {
      try {
        sensors = (await this.tokens.bindSensor(token.id, sensorId)).sensors ?? [];
        for (const v of this.#verified.values())
          if (v.token.id === token.id) v.token = { ...v.token, sensors };
      } catch (err) {
        this.health.failed('token', err);
        return `token '${token.name}' is not bound to a sensor yet and the binding to '${sensorId}' cannot be stored (${(err as Error).message}); try again later`;
      }
    }
    if (sensors.includes(sensorId)) return null;
    return (
      `token '${token.name}' is bound to sensor${sensors.length > 1 ? 's' : ''} ${sensors.join(', ')}: ` +
      `it cannot stream as '${sensorId}' (create a token for it: hark token create --role sensor --sensor ${sensorId})`
    );
  }

  /**
   * The token a secret belongs to, or null when it is unknown or revoked. Records the use (at most once per
   * `touchIntervalMs`, best-effort: a failed write is reported to the storage health, not thrown).
   */
  async verify(secret: string | null | undefined): Promise<TokenInfo | null> {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 512) return null;
    const hash = hashToken(secret);
    const now = this.now();
    let token: TokenInfo | null;
    try {
      token = await this.tokens.findByHash(hash);
    } catch (err) {
      const known = this.#verified.get(hash);
      if (!isStorageFailure(err) || !known || now - known.at > TOKEN_FALLBACK_MS) throw err;
      this.health.failed('token', err);
      return known.token;
    }
    this.#verified.delete(hash);
    if (!token || token.revokedAt !== null) return null;
    this.#verified.set(hash, { token, at: now });
    if (this.#verified.size > MAX_REMEMBERED_TOKENS)
      this.#verified.delete(this.#verified.keys().next().value!);
    if (token.lastUsedAt === null || now - token.lastUsedAt >= this.touchIntervalMs) {
      // Bookkeeping: a full disk must not refuse (or crash) a valid token; the use is recorded next time.
      void this.health.attempt('token', () => this.tokens.touch(token.id, now));
      return { ...token, lastUsedAt: now };
    }
    return token;
  }

  /** Token `id` while it is not revoked (a media ticket's issuer), else null. No use is recorded. */
  async active(id: number): Promise<TokenInfo | null> {
    const token = await this.tokens.get(id);
    return token && token.revokedAt === null ? token : null;
  }

  /** Every token (never the secrets), oldest first. */
  list(): Promise<TokenInfo[]> {
    return this.tokens.list();
  }

  /** Revokes a token; `NotFoundError` for an unknown id. Revoking twice keeps the first time. */
  async revoke(id: number): Promise<TokenInfo> {
    const revoked = await this.tokens.revoke(id, this.now());
    for (const [hash, v] of this.#verified) if (v.token.id === id) this.#verified.delete(hash);
    return revoked;
  }

  /**
   * On first start (no tokens at all), creates an admin token and returns its secret for the operator to
   * copy from the log; otherwise null.
   */
  async ensureAdmin(): Promise<string | null> {
    if ((await this.tokens.count()) > 0) return null;
    return (await this.create('admin', FIRST_ADMIN_NAME)).token;
  }
}

/** The checked, de-duplicated sensor ids of a new token's binding. */
function checkBinding(role: Role, sensors: readonly string[], max: number): string[] {
  if (role !== 'sensor')
    throw new InvalidArgumentError(`sensors bind sensor tokens only; a ${role} token takes none`);
  if (!Array.isArray(sensors) || sensors.length === 0)
    throw new InvalidArgumentError(`sensors must list 1 to ${max} sensor ids, e.g. ["pump-1", "pump-2"]`);
  for (const id of sensors) {
    const problem = sensorIdProblem(id);
    if (problem) throw new InvalidArgumentError(`sensors: ${JSON.stringify(id)} ${problem}`);
  }
  const ids = [...new Set(sensors)];
  // Each id a token is bound to is one it can register: the per-token bound on known sensors.
  if (ids.length > max)
    throw new InvalidArgumentError(
      `sensors lists ${ids.length} ids, more than one token may stream as (HARK_MAX_SENSORS_PER_TOKEN = ` +
        `${max}): split them over several tokens, or raise the limit`,
    );
  return ids;
}
