// Platform administrators: accounts flagged `is_platform_admin`. The flag is
// separate from tenant roles: it grants the platform-admin API (tenants of the
// whole installation), not any tenant's data.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { PublicDatabase } from '../../platform/db/public-tables.ts';
import { hashPassword } from '../../platform/auth/passwords.ts';
import { fleetDb } from '../../platform/tenancy/fleet-tables.ts';

/** Creates a platform-admin account, or flags an existing account (its password unchanged unless one is given). */
export async function createPlatformAdmin(db: Kysely<PublicDatabase>, input: { email: string; displayName?: string; password?: string }): Promise<{ id: string; email: string; created: boolean }> {
  const email = input.email.trim();
  const existing = await fleetDb(db).selectFrom('accounts').select(['id', 'email']).where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
  if (existing) {
    await fleetDb(db)
      .updateTable('accounts')
      .set({ isPlatformAdmin: true, updatedAt: new Date(), ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}) })
      .where('id', '=', existing.id)
      .execute();
    return { ...existing, created: false };
  }
  if (!input.password) throw new Error('A new platform admin needs a password');
  const id = uuidv7();
  await fleetDb(db)
    .insertInto('accounts')
    .values({ id, email, displayName: input.displayName ?? email.split('@')[0]!, passwordHash: await hashPassword(input.password), isPlatformAdmin: true })
    .execute();
  return { id, email, created: true };
}

/** The active platform-admin account with this id, or undefined. */
export const findPlatformAdmin = (db: Kysely<PublicDatabase>, accountId: string) =>
  fleetDb(db).selectFrom('accounts').select(['id', 'email', 'passwordHash']).where('id', '=', accountId).where('isPlatformAdmin', '=', true).where('status', '=', 'active').executeTakeFirst();

export const findPlatformAdminByEmail = (db: Kysely<PublicDatabase>, email: string) =>
  fleetDb(db)
    .selectFrom('accounts')
    .select(['id', 'email', 'passwordHash'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
    .where('isPlatformAdmin', '=', true)
    .where('status', '=', 'active')
    .executeTakeFirst();
