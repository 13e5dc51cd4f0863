import { createHash, randomBytes } from 'node:crypto';

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
