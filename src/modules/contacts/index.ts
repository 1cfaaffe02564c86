import type { PlinthModule } from '../../platform/module.ts';
import * as createContacts from './migrations/20261123000100_create_contacts.ts';
import * as emailsPhonesCompany from './migrations/20261201000100_contact_emails_phones_company.ts';
import { contactPermissions } from './permissions.ts';
import { contactRoutes } from './routes.ts';

export const contactsModule: PlinthModule = {
  name: 'contacts',
  permissions: contactPermissions,
  tenantMigrations: { '20261123000100_create_contacts': createContacts, '20261201000100_contact_emails_phones_company': emailsPhonesCompany },
  routes: contactRoutes,
};
