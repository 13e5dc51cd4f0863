import { createHash, randomBytes } from 'node:crypto';
import { ROLES, type Role } from '../contracts.js';

/** Every secret starts with this, so leaked tokens are easy to spot (and to grep for in logs). */
export const TOKEN_PREFIX = 'hark_';

/** A new secret: `hark_` + 32 random bytes in base64url (43 characters). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The sha256 of a secret, lower-case hex: what the database keeps instead of the secret. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const RANK: Record<Role, number> = { sensor: 0, operator: 1, admin: 2 };

/** True when a token of role `have` may do what needs `need` (admin > operator > sensor). */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Narrows a string to a `Role`. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
