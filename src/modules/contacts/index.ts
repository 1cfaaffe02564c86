import type { PlinthModule } from '../../platform/module.ts';
import * as createContacts from './migrations/20261123000100_create_contacts.ts';
import { contactPermissions } from './permissions.ts';
import { contactRoutes } from './routes.ts';

export const contactsModule: PlinthModule = {
  name: 'contacts',
  permissions: contactPermissions,
  tenantMigrations: { '20261123000100_create_contacts': createContacts },
  routes: contactRoutes,
};
