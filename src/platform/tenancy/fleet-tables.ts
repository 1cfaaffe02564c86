// Columns and tables the fleet platform migration (20261123060000_tenant_fleet)
// adds to `public`. Typed here, beside the code that uses them, as an
// extension of the platform tables.
import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { AccountsTable, PublicDatabase, TenantsTable } from '../db/public-tables.ts';

export interface FleetTenantsTable extends TenantsTable {
  /** Message of the last failed migration run on this tenant; cleared by the next successful one. */
  migrationError: ColumnType<string | null, string | null | undefined, string | null>;
  migrationFailedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  migratedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface TenantSparesTable {
  tenantId: string;
  schemaName: string;
  schemaVersion: string | null;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

export interface AdminAccountsTable extends AccountsTable {
  isPlatformAdmin: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface FleetDatabase extends Omit<PublicDatabase, 'tenants' | 'accounts'> {
  tenants: FleetTenantsTable;
  accounts: AdminAccountsTable;
  tenantSpares: TenantSparesTable;
}

export type FleetTenant = Selectable<FleetTenantsTable>;

/** The same connection, typed with the fleet columns. */
export const fleetDb = (db: Kysely<PublicDatabase>): Kysely<FleetDatabase> => db as unknown as Kysely<FleetDatabase>;
