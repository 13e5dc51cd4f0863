/**
 * Short-lived signed tickets for media URLs (`<audio src>`, `<img src>`), which cannot send an
 * `Authorization` header: a ticket names one alert, one media route and the token that asked for it, expires
 * in minutes, and is signed with HMAC-SHA256 under a secret kept in the data directory (so tickets outlive a
 * restart, not a new data directory). A token in a URL ends up in logs, history and Referer headers; a ticket
 * there is worth one alert's media for a few minutes, and nothing once its token is revoked.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The secret's file in the data directory. */
export const TICKET_KEY_FILE = 'media-ticket.key';

/** The media routes a ticket can open (`/api/alerts/:id/<route>`). */
export const MEDIA_ROUTES = ['audio', 'picture', 'spectrogram'] as const;
export type MediaRoute = (typeof MEDIA_ROUTES)[number];

/**
 * Ten minutes: long enough to play a clip and seek in it (each seek is a new Range request under the same
 * ticket), short enough that a URL copied out of the page stops working soon.
 */
export const TICKET_TTL_MS = 10 * 60_000;

export interface VerifiedTicket {
  tokenId: number;
  expiresAt: number;
}

export class MediaTickets {
  readonly #key: Buffer;
  readonly ttlMs: number;
  readonly now: () => number;

  /** `key`: the secret (tests); else the data directory's, created on first use. `now`: the clock (tests). */
  constructor(o: {
    dataDir?: string;
    key?: Buffer;
    ttlMs?: number;
    now?: () => number;
    log?: (line: string) => void;
  }) {
    this.ttlMs = o.ttlMs ?? TICKET_TTL_MS;
    this.now = o.now ?? Date.now;
    this.#key = o.key ?? (o.dataDir ? loadKey(o.dataDir, o.log) : randomBytes(32));
  }

  /** A ticket for `route` of alert `alertId`, on behalf of token `tokenId`. */
  issue(
    alertId: number,
    route: MediaRoute,
    tokenId: number,
    now = this.now(),
  ): { ticket: string; expiresAt: number } {
    const expiresAt = now + this.ttlMs;
    const body = `${alertId}.${route}.${expiresAt}.${tokenId}`;
    return { ticket: `${body}.${this.#sign(body)}`, expiresAt };
  }

  /** The ticket's token id, or the reason it does not open `route` of alert `alertId`. */
  verify(ticket: string, alertId: number, route: MediaRoute, now = this.now()): VerifiedTicket | string {
    const parts = ticket.split('.');
    if (parts.length !== 5) return 'malformed ticket';
    const [id, r, exp, tokenId, sig] = parts;
    const body = `${id}.${r}.${exp}.${tokenId}`;
    const want = Buffer.from(this.#sign(body));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want))
      return 'the ticket is not valid (bad signature)';
    if (Number(id) !== alertId || r !== route)
      return `the ticket is for the ${r} of alert ${id}, not the ${route} of alert ${alertId}`;
    if (Number(exp) <= now)
      return `the ticket expired at ${new Date(Number(exp)).toISOString()}: ask for new ones (POST /api/alerts/${alertId}/media-tickets)`;
    return { tokenId: Number(tokenId), expiresAt: Number(exp) };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

/**
 * The data directory's secret, created (32 random bytes, owner-only) when missing. When it cannot be written
 * (a full disk), a secret for this run only: tickets then end with the process, which costs a reload.
 */
function loadKey(dataDir: string, log?: (line: string) => void): Buffer {
  const file = join(dataDir, TICKET_KEY_FILE);
  try {
    const key = readFileSync(file);
    if (key.length >= 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  try {
    writeFileSync(file, key, { mode: 0o600, flag: 'w' });
  } catch (err) {
    log?.(
      `cannot keep the media ticket secret in ${file} (${(err as Error).message}): media links end with this run`,
    );
  }
  return key;
}
