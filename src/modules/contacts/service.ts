// Business rules for contacts. Every function takes the request context
// first; the tenant's schema comes with `ctx.db`, so nothing here can reach
// another tenant's rows.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext, TenantDb } from '../../platform/context.ts';
import { auditSourceOf, recordAudit } from '../../platform/audit/writer.ts';
import type { Db } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { assertMember } from '../identity/members.ts';
import { ownerAllowed, ownerInScope } from '../../platform/record-scope.ts';
import * as repo from './repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Contact, ContactsTables } from './tables.ts';
import type { CompaniesTables } from '../companies/tables.ts';
import type { DomainEvents } from '../../platform/events/events.ts';
import { changedFields } from '../companies/write-log.ts';

export interface ContactInput {
  firstName: string;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  jobTitle?: string | null;
  emails?: string[];
  phones?: string[];
  companyId?: string | null;
  ownerId?: string | null;
}

export interface ListQuery extends Omit<repo.ContactFilter, 'createdAfter' | 'createdBefore'> {
  limit: number;
  cursor?: string;
  sort: string;
  createdAfter?: string;
  createdBefore?: string;
}

const contactsDb = (ctx: RequestContext): repo.ContactsDb => ctx.db.withTables<ContactsTables>();

/** Runs `fn` in one transaction with a context whose `db` is that transaction, so the change and its audit row commit together. */
const inTransaction = <T>(ctx: RequestContext, fn: (tx: RequestContext) => Promise<T>): Promise<T> =>
  ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx as unknown as TenantDb }));

const audit = (tx: RequestContext, action: string, id: string, before: Contact | null, after: Contact | null) =>
  recordAudit(tx.db, auditSourceOf(tx), { action: `crm.contact.${action}`, targetType: 'contact', targetId: id, before, after });

const READ = 'crm.contacts.read';
const WRITE = 'crm.contacts.write';
const DELETE = 'crm.contacts.delete';
const scope = (ctx: RequestContext, permission: string) => ownerInScope(ctx, permission, 'ownerId');

/** The contact (live or deleted) locked for the change, if it is within the caller's scope for `permission`. */
const lockedContact = (tx: RequestContext, id: string, permission: string) => repo.findContact(contactsDb(tx), id, scope(tx, permission), { forUpdate: true });

const clean = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);

/** `list` with `primary` (when given) first, blanks and duplicates (case-insensitive) dropped. */
export function withPrimary(list: readonly string[], primary: string | null | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const v of [...(primary ? [primary] : []), ...list]) {
    const t = v.trim();
    if (t && !seen.has(t.toLowerCase())) {
      seen.add(t.toLowerCase());
      out.push(t);
    }
  }
  return out;
}

/**
 * The new list of emails (or phones) after a patch: `primary` replaces the
 * old primary (null drops it, the next one takes its place); `list` replaces
 * the whole list and keeps the old primary first when it is still in it.
 */
export function patchedList(before: { primary: string | null; list: readonly string[] }, primary: string | null | undefined, list: readonly string[] | undefined): string[] | undefined {
  if (primary === undefined && list === undefined) return undefined;
  if (primary === undefined) {
    const keep = before.primary && list!.some((v) => v.trim().toLowerCase() === before.primary!.toLowerCase()) ? before.primary : undefined;
    return withPrimary(list!, keep);
  }
  const base = list ?? before.list.filter((v) => v !== before.primary);
  return withPrimary(base, primary);
}

function parseSort(sort: string): repo.Sort {
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const field = sort.replace(/^[-+]/, '') as repo.SortField;
  return { field, direction };
}

function emailTaken(error: unknown, email: string | null | undefined): never {
  if (isUniqueViolation(error, 'contacts_email_live_unique')) {
    throw new AppError('contact_email_taken', `A contact with the email ${email ?? ''} already exists in this tenant`, {
      errors: [{ in: 'body', pointer: '/email', detail: 'already used by another contact' }],
      cause: error,
    });
  }
  throw error;
}

export function createContactsService(deps: { db: Db; events: DomainEvents }) {
  // An owner must be a member of the same tenant; the check reads `public`.
  // Within the caller's scope too: a member with scope `own` keeps what they create, a manager gives only to their team.
  const assertOwner = async (ctx: RequestContext, ownerId: string | null | undefined) => {
    await assertMember(deps.db, ctx, ownerId, '/ownerId');
    if (ownerId !== undefined && !(await ownerAllowed(deps.db, ctx, WRITE, ownerId))) {
      throw new AppError('permission_denied', ownerId === null ? 'Your role covers only owned contacts: a contact needs an owner within your scope' : 'The owner must be within your scope (yourself, or your team)');
    }
  };
  // The company must be a live company of this tenant (ctx.db only sees this tenant's schema).
  const assertCompany = async (tx: RequestContext, companyId: string | null | undefined) => {
    if (!companyId) return;
    const found = await tx.db.withTables<CompaniesTables>().selectFrom('companies').select('id').where('id', '=', companyId).where('deletedAt', 'is', null).executeTakeFirst();
    if (!found) throw new AppError('invalid_reference', 'No such company in this tenant', { errors: [{ in: 'body', pointer: '/companyId', detail: 'unknown company' }] });
  };

  return {
    async create(ctx: RequestContext, input: ContactInput): Promise<Contact> {
      const ownerId = input.ownerId === undefined ? ctx.actor.accountId : input.ownerId;
      await assertOwner(ctx, ownerId);
      const now = new Date();
      const emails = withPrimary(input.emails ?? [], clean(input.email));
      const phones = withPrimary(input.phones ?? [], clean(input.phone));
      const email = emails[0] ?? null;
      try {
        return await inTransaction(ctx, async (tx) => {
          await assertCompany(tx, input.companyId);
          const created = await repo.insertContact(contactsDb(tx), {
            id: uuidv7(),
            firstName: input.firstName.trim(),
            lastName: clean(input.lastName) ?? null,
            email,
            phone: phones[0] ?? null,
            emails,
            phones,
            companyId: input.companyId ?? null,
            jobTitle: clean(input.jobTitle) ?? null,
            ownerId,
            createdBy: ctx.actor.accountId,
            updatedBy: ctx.actor.accountId,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          });
          await deps.events.publish(tx.db, ctx, 'crm.contact.created', { id: created.id, firstName: created.firstName, lastName: created.lastName, email: created.email });
          await audit(tx, 'created', created.id, null, created);
          return created;
        });
      } catch (error) {
        return emailTaken(error, email);
      }
    },

    async get(ctx: RequestContext, id: string): Promise<Contact> {
      const contact = await repo.findContact(contactsDb(ctx), id, scope(ctx, READ), { deleted: false });
      if (!contact) throw new AppError('not_found', 'No such contact');
      return contact;
    },

    async list(ctx: RequestContext, query: ListQuery): Promise<{ data: Contact[]; nextCursor: string | null }> {
      const sort = parseSort(query.sort);
      const after = query.cursor ? decodeCursor(query.cursor, sort) : undefined;
      const filter: repo.ContactFilter = {
        email: query.email?.trim(),
        ownerId: query.ownerId,
        companyId: query.companyId,
        q: query.q?.trim() || undefined,
        createdAfter: query.createdAfter ? new Date(query.createdAfter) : undefined,
        createdBefore: query.createdBefore ? new Date(query.createdBefore) : undefined,
        deleted: query.deleted,
      };
      const rows = await repo.listContacts(contactsDb(ctx), scope(ctx, READ), filter, sort, query.limit + 1, after);
      const data = rows.slice(0, query.limit);
      const last = data.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor(sort, { value: repo.sortValueOf(last, sort.field), id: last.id }) : null;
      return { data, nextCursor };
    },

    async update(ctx: RequestContext, id: string, patch: Partial<ContactInput>): Promise<Contact> {
      await assertOwner(ctx, patch.ownerId);
      const changes = {
        ...(patch.firstName !== undefined ? { firstName: patch.firstName.trim() } : {}),
        ...(patch.lastName !== undefined ? { lastName: clean(patch.lastName) } : {}),
        ...(patch.jobTitle !== undefined ? { jobTitle: clean(patch.jobTitle) } : {}),
        ...(patch.companyId !== undefined ? { companyId: patch.companyId } : {}),
        ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
      };
      let email: string | null | undefined;
      try {
        return await inTransaction(ctx, async (tx) => {
          const before = await lockedContact(tx, id, WRITE);
          if (!before || before.deletedAt) throw new AppError('not_found', 'No such contact');
          await assertCompany(tx, patch.companyId);
          const emails = patchedList({ primary: before.email, list: before.emails }, clean(patch.email), patch.emails);
          const phones = patchedList({ primary: before.phone, list: before.phones }, clean(patch.phone), patch.phones);
          email = emails?.[0] ?? null;
          const lists = { ...(emails ? { emails, email: emails[0] ?? null } : {}), ...(phones ? { phones, phone: phones[0] ?? null } : {}) };
          const updated = await repo.updateContact(contactsDb(tx), id, scope(tx, WRITE), { ...changes, ...lists, updatedBy: ctx.actor.accountId, updatedAt: new Date() });
          if (!updated) throw new AppError('not_found', 'No such contact');
          await deps.events.publish(tx.db, ctx, 'crm.contact.updated', { id, changes: changedFields(before, updated) });
          await audit(tx, 'updated', id, before, updated);
          return updated;
        });
      } catch (error) {
        return emailTaken(error, email);
      }
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await inTransaction(ctx, async (tx) => {
        const before = await lockedContact(tx, id, DELETE);
        const deleted = await repo.setDeleted(contactsDb(tx), id, scope(tx, DELETE), true, ctx.actor.accountId, new Date());
        if (!deleted || !before) throw new AppError('not_found', 'No such contact');
        await deps.events.publish(tx.db, ctx, 'crm.contact.deleted', { id });
        await audit(tx, 'deleted', id, before, deleted);
      });
    },

    /** Brings a soft-deleted contact back; refused while a live contact holds its email. */
    async restore(ctx: RequestContext, id: string): Promise<Contact> {
      try {
        return await inTransaction(ctx, async (tx) => {
          const before = await lockedContact(tx, id, DELETE);
          const restored = await repo.setDeleted(contactsDb(tx), id, scope(tx, DELETE), false, ctx.actor.accountId, new Date());
          if (!restored || !before) throw new AppError('not_found', 'No deleted contact with this id');
          await deps.events.publish(tx.db, ctx, 'crm.contact.restored', { id });
          await audit(tx, 'restored', id, before, restored);
          return restored;
        });
      } catch (error) {
        if (error instanceof AppError) throw error;
        return emailTaken(error, undefined);
      }
    },
  };
}

export type ContactsService = ReturnType<typeof createContactsService>;
