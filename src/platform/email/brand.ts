import type { TenantRef } from '../context.ts';
import type { Brand } from './render.ts';
import { findBranding, type EmailDb } from './repository.ts';

export const DEFAULT_PRIMARY_COLOR = '#2563eb';

/** The tenant's branding, with defaults for what it has not set. */
export async function brandOf(db: EmailDb, tenant: TenantRef): Promise<Brand> {
  const row = await findBranding(db);
  const name = row?.name ?? tenant.displayName;
  return {
    name,
    logoUrl: row?.logoUrl ?? null,
    primaryColor: row?.primaryColor ?? DEFAULT_PRIMARY_COLOR,
    footer: row?.footer ?? `You receive this email as a member of ${name}.`,
  };
}
