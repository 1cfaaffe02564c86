// The notifications port: `notify(trx, ctx, input)` from any module, inside
// its business transaction. The inbox row, the live push (a NOTIFY,
// delivered at commit) and an optional email all commit or roll back with
// the caller's write. Members choose per kind: in-app, email, both, neither.
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { scopeToTenant, type TenantRef } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/module.ts';
import type { NotificationRow, NotificationsTables } from './tables.ts';

export interface NotifyInput {
  accountId: string;
  /** e.g. `crm.deal.won`; preferences are per kind. */
  kind: string;
  title: string;
  body?: string | null;
  link?: string | null;
}

export const NEW_NOTIFICATION_EVENT = 'notification.created';
export const READ_EVENT = 'notification.read';

const inbox = (db: Kysely<any>, schema: string) => scopeToTenant(db, schema).withTables<NotificationsTables>();

export const toJson = (n: NotificationRow) => ({ id: n.id, kind: n.kind, title: n.title, body: n.body, link: n.link, readAt: n.readAt?.toISOString() ?? null, createdAt: n.createdAt.toISOString() });

export function createNotifications(platform: Platform) {
  return {
    /** Returns the notification, or null when the member turned this kind off in-app. */
    async notify(trx: Kysely<any>, ctx: { tenant: TenantRef }, input: NotifyInput): Promise<NotificationRow | null> {
      const db = inbox(trx, ctx.tenant.schemaName);
      const member = await trx.withoutPlugins().selectFrom('public.memberships as m').innerJoin('public.accounts as a', 'a.id', 'm.account_id').select(['a.email']).where('m.tenant_id', '=', ctx.tenant.id).where('m.account_id', '=', input.accountId).executeTakeFirst();
      if (!member) throw new AppError('invalid_reference', 'This account is not a member of the tenant', { errors: [{ pointer: '/accountId', in: 'body', detail: 'is not a member of this tenant' }] });
      const pref = await db.selectFrom('notification_preferences').selectAll().where('accountId', '=', input.accountId).where('kind', '=', input.kind).executeTakeFirst();
      if (pref?.email) {
        await platform.mail.sendTemplate(trx, ctx, { template: 'notifications.notice', to: member.email as string, data: { title: input.title, body: input.body ?? '', ...(input.link ? { link: input.link } : {}) } });
      }
      if (pref && !pref.inApp) return null;
      const row = await db.insertInto('notifications').values({ id: uuidv7(), accountId: input.accountId, kind: input.kind, title: input.title, body: input.body ?? null, link: input.link ?? null }).returningAll().executeTakeFirstOrThrow();
      await platform.realtime.publish(trx, { tenantId: ctx.tenant.id, accountId: input.accountId, event: NEW_NOTIFICATION_EVENT, data: toJson(row) });
      return row;
    },

    list: (db: Kysely<any>, schema: string, accountId: string, opts: { unread: boolean; limit: number; before?: string }) => {
      let q = inbox(db, schema).selectFrom('notifications').selectAll().where('accountId', '=', accountId);
      if (opts.unread) q = q.where('readAt', 'is', null);
      if (opts.before) q = q.where('id', '<', opts.before);
      return q.orderBy('id', 'desc').limit(opts.limit).execute();
    },

    async unreadCount(db: Kysely<any>, schema: string, accountId: string): Promise<number> {
      const row = await inbox(db, schema).selectFrom('notifications').select(sql<number>`count(*)::int`.as('n')).where('accountId', '=', accountId).where('readAt', 'is', null).executeTakeFirstOrThrow();
      return row.n;
    },

    async markRead(db: Kysely<any>, schema: string, accountId: string, id: string): Promise<NotificationRow> {
      const q = inbox(db, schema);
      const row = await q.updateTable('notifications').set({ readAt: sql<Date>`coalesce(read_at, now())` }).where('id', '=', id).where('accountId', '=', accountId).returningAll().executeTakeFirst();
      if (!row) throw new AppError('not_found', 'No such notification');
      return row;
    },

    async markAllRead(db: Kysely<any>, schema: string, accountId: string): Promise<number> {
      const res = await inbox(db, schema).updateTable('notifications').set({ readAt: sql<Date>`now()` }).where('accountId', '=', accountId).where('readAt', 'is', null).executeTakeFirst();
      return Number(res.numUpdatedRows);
    },

    preferences: (db: Kysely<any>, schema: string, accountId: string) =>
      inbox(db, schema).selectFrom('notification_preferences').select(['kind', 'inApp', 'email']).where('accountId', '=', accountId).orderBy('kind').execute(),

    setPreference: (db: Kysely<any>, schema: string, accountId: string, kind: string, p: { inApp: boolean; email: boolean }) =>
      inbox(db, schema)
        .insertInto('notification_preferences')
        .values({ accountId, kind, ...p })
        .onConflict((oc) => oc.columns(['accountId', 'kind']).doUpdateSet({ ...p, updatedAt: new Date() }))
        .returning(['kind', 'inApp', 'email'])
        .executeTakeFirstOrThrow(),
  };
}
