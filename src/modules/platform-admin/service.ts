// The platform-admin API's operations: thin wrappers over the tenancy
// functions the CLI uses too, plus the directory invalidation (every API
// instance sees a change at once, through the cache's invalidation bus) and
// the spare pool refill (a job enqueued by the sign-up transaction).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Platform } from '../../platform/module.ts';
import { AppError } from '../../platform/errors.ts';
import { verifyPassword } from '../../platform/auth/passwords.ts';
import { provisionTenant } from '../../platform/tenancy/provisioning.ts';
import { deleteTenant, getTenant, listTenants, renameTenant, setTenantStatus } from '../../platform/tenancy/lifecycle.ts';
import { exportTenant } from '../../platform/tenancy/export.ts';
import { enqueueSparesRefill } from '../../platform/tenancy/spares.ts';
import { fleetStatus } from '../../platform/tenancy/fleet.ts';
import { PLATFORM_TENANT_ID } from '../../platform/tenancy/platform-admins.ts';
import { ensureMember } from '../identity/service.ts';
import { findPlatformAdminByEmail } from './admins.ts';
import { sendVerificationMail } from '../identity/email-flows.ts';
import { tenantRef } from '../../platform/http/access-guard.ts';
import { appendAudit, recordAudit, type AuditSource } from '../../platform/audit/writer.ts';
import { scopeToTenant } from '../../platform/context.ts';

export function createPlatformAdminService(platform: Platform) {
  const { db, directory, migrations, config, tokens } = platform;
  return {
    async login(input: { email: string; password: string }) {
      const admin = await findPlatformAdminByEmail(db, input.email);
      // Same work and answer for an unknown email as for a wrong password.
      const ok = await verifyPassword(admin?.passwordHash, input.password);
      if (!admin || !ok) throw new AppError('invalid_credentials');
      return tokens.issue({ accountId: admin.id, tenantId: PLATFORM_TENANT_ID });
    },
    list: (query: { status?: 'active' | 'suspended'; limit: number; offset: number }) => listTenants(db, query),
    get: (slug: string) => getTenant(db, slug),
    async create(input: { slug: string; displayName: string; ownerEmail: string; ownerPassword?: string }, source: AuditSource) {
      const password = input.ownerPassword ?? randomBytes(15).toString('base64url');
      let existingAccount = false;
      const tenant = await provisionTenant(db, migrations, { slug: input.slug, displayName: input.displayName }, async (trx, t) => {
        existingAccount = Boolean(await trx.selectFrom('accounts').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', input.ownerEmail.toLowerCase())).executeTakeFirst());
        const owner = await ensureMember(trx, { tenantId: t.id, email: input.ownerEmail, displayName: input.ownerEmail.split('@')[0]!, password, role: 'owner' });
        // Sign-up: a new owner account gets a verification mail, with the new tenant's branding.
        if (!existingAccount) await sendVerificationMail(platform, trx, tenantRef(t), owner);
        if (config.TENANT_SPARE_POOL_SIZE > 0) await enqueueSparesRefill(platform.jobs, trx);
        await recordAudit(scopeToTenant(trx, t.schemaName), source, { action: 'platform.tenant.created', targetType: 'tenant', targetId: t.id, after: { slug: t.slug, displayName: t.displayName, ownerEmail: input.ownerEmail } });
      });
      await directory.invalidateTenant(tenant);
      return {
        tenant: await getTenant(db, tenant.slug),
        owner: { email: input.ownerEmail, existingAccount, password: existingAccount || input.ownerPassword ? null : password },
      };
    },
    /** Suspends or resumes; the change and its row in the tenant's own audit trail commit together. */
    async setStatus(slug: string, status: 'active' | 'suspended', source: AuditSource) {
      const t = await db.transaction().execute(async (trx) => {
        const before = await getTenant(trx, slug);
        const after = await setTenantStatus(trx, slug, status);
        if (before.status !== after.status) {
          await recordAudit(scopeToTenant(trx, after.schemaName), source, { action: status === 'suspended' ? 'platform.tenant.suspended' : 'platform.tenant.resumed', targetType: 'tenant', targetId: after.id, before: { status: before.status }, after: { status: after.status } });
        }
        return after;
      });
      await directory.invalidateTenant(t);
      return t;
    },
    async rename(slug: string, change: { slug?: string; displayName?: string }, source: AuditSource) {
      const t = await db.transaction().execute(async (trx) => {
        const before = await getTenant(trx, slug);
        const after = await renameTenant(trx, slug, change);
        await recordAudit(scopeToTenant(trx, after.schemaName), source, { action: 'platform.tenant.renamed', targetType: 'tenant', targetId: after.id, before: { slug: before.slug, displayName: before.displayName }, after: { slug: after.slug, displayName: after.displayName } });
        return after;
      });
      await directory.invalidateTenant({ id: t.id, slug });
      await directory.invalidateTenant(t);
      return t;
    },
    /**
     * Deletes a tenant. Its trail goes with it, so the deletion is recorded in
     * the trail first: the export taken next (unless export=false) holds it.
     */
    async remove(slug: string, opts: { export: boolean }, source: AuditSource) {
      const t = await getTenant(db, slug);
      await appendAudit(db, t.schemaName, source, { action: 'platform.tenant.deleted', targetType: 'tenant', targetId: t.id, before: { slug: t.slug, displayName: t.displayName }, details: { exported: opts.export } });
      const file = opts.export ? join(config.PLINTH_DATA_DIR, 'exports', `${slug}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}.json`) : null;
      if (file) await exportTenant(db, slug, file);
      const r = await deleteTenant(db, slug, { directory });
      return { ...r, exportFile: file };
    },
    fleetStatus: () => fleetStatus(db, migrations),
  };
}
