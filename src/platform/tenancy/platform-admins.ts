// The platform-admin side of the access guard. A platform admin is an account
// flagged `is_platform_admin`, independent of any tenant membership; its
// tokens are issued for no tenant (PLATFORM_TENANT_ID), so they open no
// tenant's data, and tenant tokens open no platform route.
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { fleetDb } from './fleet-tables.ts';

/** The `tid` claim of platform-admin tokens: the nil UUID, which no tenant has. */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

export const PLATFORM_PERMISSION_RE = /^platform\.[a-z]+\.[a-z]+$/;

export interface PlatformContext {
  requestId: string;
  accountId: string;
}

/** Checked on every platform request (not cached): revoking the flag takes effect at once. */
export async function platformAdminContext(db: Db, requestId: string, claims: { accountId: string; tenantId: string }, permission: string): Promise<PlatformContext> {
  if (claims.tenantId !== PLATFORM_TENANT_ID) throw new AppError('permission_denied', `This needs the platform permission "${permission}": log in through POST /v1/platform/login`);
  const admin = await fleetDb(db).selectFrom('accounts').select('id').where('id', '=', claims.accountId).where('isPlatformAdmin', '=', true).where('status', '=', 'active').executeTakeFirst();
  if (!admin) throw new AppError('permission_denied', `This needs the platform permission "${permission}", which this account does not have`);
  return { requestId, accountId: claims.accountId };
}
