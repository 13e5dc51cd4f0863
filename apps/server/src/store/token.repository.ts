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
  async insert(token: {
    name: string;
    role: Role;
    hash: string;
    createdAt: number;
    sensors?: string[] | null;
  }): Promise<TokenInfo> {
    const { id } = await this.db
      .insertInto('tokens')
      .values({
        name: token.name,
        role: token.role,
        hash: token.hash,
        created_at: token.createdAt,
        sensors: token.sensors ? JSON.stringify(token.sensors) : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return this.require(id);
  }

  /** The token whose secret hashes to `hash` (revoked ones included), or null. */
  async findByHash(hash: string): Promise<TokenInfo | null> {
    const row = await this.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row ? toInfo(row as TokenRow) : null;
  }

  async get(id: number): Promise<TokenInfo | null> {
    const row = await this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toInfo(row as TokenRow) : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  async require(id: number): Promise<TokenInfo> {
    const token = await this.get(id);
    if (!token) throw new NotFoundError(`token ${id} not found`);
    return token;
  }

  /** Every token, oldest first. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().orderBy('id').execute();
    return (rows as TokenRow[]).map(toInfo);
  }

  /** Number of tokens, revoked or not. */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Records a use. */
  async touch(id: number, at: number): Promise<void> {
    await this.db.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  /**
   * Binds a token that is not bound yet to `sensorId`; returns the token as it is now (bound to `sensorId`,
   * or to whatever another connection bound it to first).
   */
  async bindSensor(id: number, sensorId: string): Promise<TokenInfo> {
    await this.db
      .updateTable('tokens')
      .set({ sensors: JSON.stringify([sensorId]) })
      .where('id', '=', id)
      .where('sensors', 'is', null)
      .execute();
    return this.require(id);
  }

  /** Revokes a token (revoking twice keeps the first time). */
  async revoke(id: number, at: number): Promise<TokenInfo> {
    await this.require(id);
    await this.db
      .updateTable('tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id)
      .execute();
    return this.require(id);
  }
}
