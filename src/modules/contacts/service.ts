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

export interface ContactInput {
  firstName: string;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  jobTitle?: string | null;
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

export function createContactsService(deps: { db: Db }) {
  // An owner must be a member of the same tenant; the check reads `public`.
  // Within the caller's scope too: a member with scope `own` keeps what they create, a manager gives only to their team.
  const assertOwner = async (ctx: RequestContext, ownerId: string | null | undefined) => {
    await assertMember(deps.db, ctx, ownerId, '/ownerId');
    if (ownerId !== undefined && !(await ownerAllowed(deps.db, ctx, WRITE, ownerId))) {
      throw new AppError('permission_denied', ownerId === null ? 'Your role covers only owned contacts: a contact needs an owner within your scope' : 'The owner must be within your scope (yourself, or your team)');
    }
  };

  return {
    async create(ctx: RequestContext, input: ContactInput): Promise<Contact> {
      const ownerId = input.ownerId === undefined ? ctx.actor.accountId : input.ownerId;
      await assertOwner(ctx, ownerId);
      const now = new Date();
      const email = clean(input.email) ?? null;
      try {
        return await inTransaction(ctx, async (tx) => {
          const created = await repo.insertContact(contactsDb(tx), {
            id: uuidv7(),
            firstName: input.firstName.trim(),
            lastName: clean(input.lastName) ?? null,
            email,
            phone: clean(input.phone) ?? null,
            jobTitle: clean(input.jobTitle) ?? null,
            ownerId,
            createdBy: ctx.actor.accountId,
            updatedBy: ctx.actor.accountId,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          });
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
        ...(patch.email !== undefined ? { email: clean(patch.email) } : {}),
        ...(patch.phone !== undefined ? { phone: clean(patch.phone) } : {}),
        ...(patch.jobTitle !== undefined ? { jobTitle: clean(patch.jobTitle) } : {}),
        ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
      };
      try {
        return await inTransaction(ctx, async (tx) => {
          const before = await lockedContact(tx, id, WRITE);
          const updated = await repo.updateContact(contactsDb(tx), id, scope(tx, WRITE), { ...changes, updatedBy: ctx.actor.accountId, updatedAt: new Date() });
          if (!updated || !before) throw new AppError('not_found', 'No such contact');
          await audit(tx, 'updated', id, before, updated);
          return updated;
        });
      } catch (error) {
        return emailTaken(error, changes.email);
      }
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await inTransaction(ctx, async (tx) => {
        const before = await lockedContact(tx, id, DELETE);
        const deleted = await repo.setDeleted(contactsDb(tx), id, scope(tx, DELETE), true, ctx.actor.accountId, new Date());
        if (!deleted || !before) throw new AppError('not_found', 'No such contact');
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
