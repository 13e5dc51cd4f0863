import type { Role, TokenInfo } from '@hark/protocol';
import { Repository } from './database.js';
import { NotFoundError } from './errors.js';

interface TokenRow {
  id: number;
  name: string;
  role: Role;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  sensors: string | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  sensors: r.sensors === null ? null : (JSON.parse(r.sensors) as string[]),
});

/** API tokens. Only the sha256 of a secret is stored; `auth/TokenService` makes and checks secrets. */
export class TokenRepository extends Repository {
  /** Stores a new token by the hash of its secret. */
  insert(token: {
    name: string;
    role: Role;
    hash: string;
    createdAt: number;
    sensors?: string[] | null;
  }): TokenInfo {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO tokens (name, role, hash, created_at, sensors) VALUES (?, ?, ?, ?, ?)')
      .run(
        token.name,
        token.role,
        token.hash,
        token.createdAt,
        token.sensors ? JSON.stringify(token.sensors) : null,
      );
    return this.require(Number(lastInsertRowid));
  }

  /** The token whose secret hashes to `hash` (revoked ones included), or null. */
  findByHash(hash: string): TokenInfo | null {
    const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    return row ? toInfo(row) : null;
  }

  get(id: number): TokenInfo | null {
    const row = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row ? toInfo(row) : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  require(id: number): TokenInfo {
    const token = this.get(id);
    if (!token) throw new NotFoundError(`token ${id} not found`);
    return token;
  }

  /** Every token, oldest first. */
  list(): TokenInfo[] {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY id').all() as TokenRow[]).map(toInfo);
  }

  /** Number of tokens, revoked or not. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n;
  }

  /** Records a use. */
  touch(id: number, at: number): void {
    this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  /**
   * Binds a token that is not bound yet to `sensorId`; returns the token as it is now (bound to `sensorId`,
   * or to whatever another connection bound it to first).
   */
  bindSensor(id: number, sensorId: string): TokenInfo {
    this.db
      .prepare('UPDATE tokens SET sensors = ? WHERE id = ? AND sensors IS NULL')
      .run(JSON.stringify([sensorId]), id);
    return this.require(id);
  }

  /** Revokes a token (revoking twice keeps the first time). */
  revoke(id: number, at: number): TokenInfo {
    this.require(id);
    this.db.prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id);
    return this.require(id);
  }
}
