// The modules this build of Plinth serves, in registration order. A new
// module is a folder under src/modules/ and one line here.
import type { PlinthModule } from '../platform/module.ts';
import { identityModule } from './identity/index.ts';
import { auditModule } from '../platform/audit/index.ts';
import { contactsModule } from './contacts/index.ts';
import { companiesModule } from './companies/index.ts';
import { dealsModule } from './deals/index.ts';
import { activitiesModule } from './activities/index.ts';
import { customFieldsModule } from './custom-fields/index.ts';
import { viewsModule } from './views/index.ts';
import { crmReportsModule } from './crm-reports/index.ts';
import { importsModule } from './imports/index.ts';
import { jobsModule } from '../platform/jobs/index.ts';
import { emailModule } from '../platform/email/index.ts';
import { filesModule } from './files/index.ts';
import { notificationsModule } from './notifications/index.ts';
import { webhooksModule } from './webhooks/index.ts';
import { platformAdminModule } from './platform-admin/index.ts';
import { hubspotModule } from './hubspot/index.ts';

export const modules: readonly PlinthModule[] = [identityModule, auditModule, contactsModule, companiesModule, dealsModule, activitiesModule, customFieldsModule, viewsModule, crmReportsModule, importsModule, jobsModule, emailModule, filesModule, notificationsModule, webhooksModule, platformAdminModule, hubspotModule];
