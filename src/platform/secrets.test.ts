// Stored-credential encryption: round trip, purpose binding, key mismatch,
// tampering, and the database-kept development key shared by every caller.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { secretBox, secretBoxFromKey } from './secrets.ts';
import { startApp, type Harness } from '../../test/helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(async () => h?.close());

describe('secret box (AES-256-GCM)', () => {
  const box = secretBoxFromKey(randomBytes(32));

  it('round-trips, with a fresh nonce per value', () => {
    const a = box.encrypt('pat-na1-secret', 'hubspot.token:t1');
    const b = box.encrypt('pat-na1-secret', 'hubspot.token:t1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('pat-na1');
    expect(box.decrypt(a, 'hubspot.token:t1')).toBe('pat-na1-secret');
  });

  it('refuses another purpose (tenant), another key, and a tampered value', () => {
    const stored = box.encrypt('pat-na1-secret', 'hubspot.token:t1');
    expect(() => box.decrypt(stored, 'hubspot.token:t2')).toThrow();
    expect(() => secretBoxFromKey(randomBytes(32)).decrypt(stored, 'hubspot.token:t1')).toThrow(/another key/);
    const raw = Buffer.from(stored.split('.')[2]!, 'base64');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    expect(() => box.decrypt(`v1.${stored.split('.')[1]}.${raw.toString('base64')}`, 'hubspot.token:t1')).toThrow();
    expect(() => secretBoxFromKey(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('uses SECRETS_KEY when set, else one key generated once in the database (with a warning)', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) } as never;
    const key = randomBytes(32).toString('base64');
    const configured = await secretBox({ config: { SECRETS_KEY: key }, db: h.db }, log);
    expect(secretBoxFromKey(Buffer.from(key, 'base64')).decrypt(configured.encrypt('x', 'p'), 'p')).toBe('x');
    expect(warnings).toHaveLength(0);

    const first = await secretBox({ config: {}, db: h.db }, log);
    const stored = first.encrypt('dev secret', 'p');
    const { rows } = await sql<{ key: Buffer }>`select key from public.secret_keys where id = 'default'`.execute(h.db);
    expect(secretBoxFromKey(rows[0]!.key).decrypt(stored, 'p')).toBe('dev secret');
    expect(warnings.some((w) => w.includes('SECRETS_KEY is not set'))).toBe(true);
  });
});
