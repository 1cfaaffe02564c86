// The demo tenant `acme` that `npm start` creates on a fresh data folder: an
// owner to log in with, a few contacts and CRM data (companies, deals across
// the pipeline with stage history, activities). Runs once; later starts find the
// tenant and leave it alone.
import type { Db } from '../platform/db/database.ts';
import type { TenantMigrationSet } from '../platform/tenancy/tenant-migrations.ts';
import { provisionTenant } from '../platform/tenancy/provisioning.ts';
import { ensureMember } from '../modules/identity/service.ts';
import { insertContact } from '../modules/contacts/repository.ts';
import type { ContactsTables } from '../modules/contacts/tables.ts';
import { v7 as uuidv7 } from 'uuid';
import { scopeToTenant } from '../platform/context.ts';
import { seedCrmDemo } from '../modules/deals/demo-data.ts';

export const DEMO = {
  slug: 'acme',
  displayName: 'Acme Inc.',
  email: 'owner@acme.example',
  password: 'plinth-demo-owner',
} as const;

const SAMPLE_CONTACTS = [
  { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@analytical.example', jobTitle: 'Head of Engineering', phone: '+44 20 7946 0001' },
  { firstName: 'Grace', lastName: 'Hopper', email: 'grace@navy.example', jobTitle: 'Rear Admiral', phone: '+1 202 555 0102' },
  { firstName: 'Alan', lastName: 'Turing', email: 'alan@bletchley.example', jobTitle: 'Cryptanalyst', phone: null },
  { firstName: 'Katherine', lastName: 'Johnson', email: 'katherine@nasa.example', jobTitle: 'Mathematician', phone: '+1 757 555 0104' },
  { firstName: 'Edsger', lastName: 'Dijkstra', email: null, jobTitle: 'Professor', phone: null },
];

/** Creates the demo tenant unless it exists. Returns true when it created it. */
export async function seedDemo(db: Db, migrations: TenantMigrationSet): Promise<boolean> {
  const exists = await db.selectFrom('tenants').select('id').where('slug', '=', DEMO.slug).executeTakeFirst();
  if (exists) return false;
  await provisionTenant(db, migrations, { slug: DEMO.slug, displayName: DEMO.displayName }, async (trx, tenant) => {
    const owner = await ensureMember(trx, { tenantId: tenant.id, email: DEMO.email, displayName: 'Acme Owner', password: DEMO.password, role: 'owner' });
    const contacts = scopeToTenant(trx, tenant.schemaName).withTables<ContactsTables>();
    let t = Date.now() - SAMPLE_CONTACTS.length * 60_000;
    const contactIds: Record<string, string> = {};
    for (const c of SAMPLE_CONTACTS) {
      const at = new Date((t += 60_000));
      const created = await insertContact(contacts, { id: uuidv7(), ...c, ownerId: owner.id, createdBy: owner.id, updatedBy: owner.id, createdAt: at, updatedAt: at, deletedAt: null });
      if (c.email) contactIds[c.email] = created.id;
    }
    await seedCrmDemo(scopeToTenant(trx, tenant.schemaName), owner.id, contactIds);
  });
  return true;
}
