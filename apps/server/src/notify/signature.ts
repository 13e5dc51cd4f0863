import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every webhook request. */
export const SIGNATURE_HEADER = 'X-Hark-Signature';
export const TIMESTAMP_HEADER = 'X-Hark-Timestamp';

/** Default window within which a receiver accepts a timestamp, ms (5 minutes either way). */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the shared secret>`. */
export function signWebhook(secret: string, timestamp: number | string, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * For receivers: true when `header` (the `X-Hark-Signature` value) signs `timestamp` (the `X-Hark-Timestamp`
 * value, ms since the epoch) and the raw `body` with `secret`, and the timestamp is within `toleranceMs` of
 * `now` (replay protection). Compares in constant time.
 */
export function verifySignature(
  secret: string,
  timestamp: number | string | undefined,
  body: string | Buffer,
  header: string | undefined,
  options: { toleranceMs?: number; now?: number } = {},
): boolean {
  if (timestamp === undefined || header === undefined) return false;
  const t = Number(timestamp);
  if (!Number.isFinite(t)) return false;
  const tolerance = options.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (Math.abs((options.now ?? Date.now()) - t) > tolerance) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
