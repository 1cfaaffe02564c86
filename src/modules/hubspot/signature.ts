// HubSpot's v3 request signature: X-HubSpot-Signature-v3 is
// base64(HMAC-SHA256(client secret, method + uri + body + timestamp)) and
// X-HubSpot-Request-Timestamp is epoch milliseconds; requests older than five
// minutes are refused. The URI is the full URL HubSpot called, with the
// percent-escapes HubSpot leaves decoded (its docs list them) before hashing.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_AGE_MS = 5 * 60 * 1000;

const DECODE: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };
const decodeUri = (uri: string) => uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODE[m.toUpperCase()]!);

export const signV3 = (secret: string, method: string, uri: string, body: string, timestamp: string) =>
  createHmac('sha256', secret).update(`${method.toUpperCase()}${decodeUri(uri)}${body}${timestamp}`).digest('base64');

export type Verdict = 'ok' | 'missing' | 'stale' | 'mismatch';

export function verifyV3(input: { secret: string; method: string; uri: string; body: string; signature?: string; timestamp?: string; now?: number }): Verdict {
  const { signature, timestamp } = input;
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return 'missing';
  if (Math.abs((input.now ?? Date.now()) - Number(timestamp)) > MAX_AGE_MS) return 'stale';
  const expected = Buffer.from(signV3(input.secret, input.method, input.uri, input.body, timestamp));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? 'ok' : 'mismatch';
}
