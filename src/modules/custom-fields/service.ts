// Tenant admins define custom fields per object through the API. Values are
// stored by field id, so renaming a field's key or label keeps them; a
// deleted field's values stay stored (hidden) and come back on restore.
import { v7 as uuidv7 } from 'uuid';
import { sql, type Kysely } from 'kysely';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import * as repo from './repository.ts';
import { auditCrm } from '../companies/write-log.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import { SORT_INDEX_TASK, SORTABLE_INDEXED } from './sort-index.ts';

/** Runs `fn` in a transaction with its tenant-scoped handle; the audit row commits with the change. */
const inTx = <T>(ctx: RequestContext, fn: (trx: RequestContext['db']) => Promise<T>) => ctx.db.transaction().execute((trx) => fn(trx as unknown as RequestContext['db']));
import type { CustomField, CustomFieldsTables, CustomObject, FieldType } from './tables.ts';

export interface FieldInput {
  object: CustomObject;
  key: string;
  label: string;
  type: FieldType;
  options?: string[];
  currency?: string;
  target?: 'company' | 'contact' | 'deal';
  required?: boolean;
  position?: number;
}

const fieldsDb = (db: RequestContext['db']): repo.CustomFieldsDb => db.withTables<CustomFieldsTables>();
const TABLE_OF = { company: 'companies', deal: 'deals' } as const;
const bad = (pointer: string, detail: string) => new AppError('validation_failed', detail, { errors: [{ in: 'body', pointer, detail }] });

function keyTaken(error: unknown, key: string | undefined): never {
  if (isUniqueViolation(error, 'custom_fields_key_live_unique')) {
    throw new AppError('custom_field_key_taken', `A live custom field of this object already has the key "${key ?? ''}"`, { errors: [{ in: 'body', pointer: '/key', detail: 'already used' }], cause: error });
  }
  throw error;
}

function checkOptions(type: FieldType, options: string[] | undefined): string[] {
  const list = (options ?? []).map((o) => o.trim());
  const isChoice = type === 'select' || type === 'multi_select';
  if (isChoice && list.length === 0) throw bad('/options', `a ${type} field needs options`);
  if (!isChoice && list.length > 0) throw bad('/options', `a ${type} field has no options`);
  if (new Set(list).size !== list.length || list.some((o) => !o)) throw bad('/options', 'options must be distinct and not blank');
  return list;
}

/** Records of the object that still hold one of `removed` options in this field. */
async function optionsInUse(ctx: RequestContext, field: CustomField, removed: string[]): Promise<string[]> {
  const used: string[] = [];
  for (const option of removed) {
    const probe = { [field.id]: field.type === 'multi_select' ? [option] : option };
    const row = await ctx.db
      .withTables<Record<'companies' | 'deals', { id: string; custom: unknown }>>()
      .selectFrom(TABLE_OF[field.object])
      .select('id')
      .where(sql<boolean>`custom @> ${JSON.stringify(probe)}::jsonb`)
      .limit(1)
      .executeTakeFirst();
    if (row) used.push(option);
  }
  return used;
}

export function createCustomFieldsService(deps: { jobs: JobQueue }) {
  /** Enqueues the field's sort-index sync with the write (sort-index.ts); one waiting job per field. */
  const syncIndex = async (trx: RequestContext['db'], ctx: RequestContext, field: CustomField) => {
    if (SORTABLE_INDEXED.includes(field.type)) await deps.jobs.enqueue(trx as unknown as Kysely<any>, ctx.tenant.id, SORT_INDEX_TASK, { fieldId: field.id }, { jobKey: `${SORT_INDEX_TASK}:${field.id}` });
  };
  return {
    /** Live field definitions of one object, for the objects' services. */
    fieldsOf: (ctx: RequestContext, object: CustomObject) => repo.fieldsOf(fieldsDb(ctx.db), object),

    list: async (ctx: RequestContext, query: { object?: CustomObject; deleted: boolean }) => ({ data: await repo.listFields(fieldsDb(ctx.db), query) }),

    async get(ctx: RequestContext, id: string): Promise<CustomField> {
      const f = await repo.findField(fieldsDb(ctx.db), id);
      if (!f) throw new AppError('not_found', 'No such custom field');
      return f;
    },

    async create(ctx: RequestContext, input: FieldInput): Promise<CustomField> {
      const options = checkOptions(input.type, input.options);
      if ((input.type === 'currency') !== (input.currency !== undefined)) throw bad('/currency', 'currency fields, and only they, take a currency code');
      if ((input.type === 'relation') !== (input.target !== undefined)) throw bad('/target', 'relation fields, and only they, take a target object');
      const now = new Date();
      try {
        return await inTx(ctx, async (trx) => {
          const created = await repo.insertField(fieldsDb(trx), {
          id: uuidv7(),
          object: input.object,
          key: input.key,
          label: input.label.trim(),
          type: input.type,
          options: JSON.stringify(options),
          currency: input.currency ?? null,
          target: input.target ?? null,
          required: input.required ?? false,
          position: input.position ?? 0,
          createdBy: ctx.actor.accountId,
          updatedBy: ctx.actor.accountId,
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
          });
          await auditCrm(trx, ctx, { type: 'custom_field', action: 'created', id: created.id, before: null, after: created });
          await syncIndex(trx, ctx, created);
          return created;
        });
      } catch (error) {
        return keyTaken(error, input.key);
      }
    },

    async update(ctx: RequestContext, id: string, patch: { key?: string; label?: string; options?: string[]; required?: boolean; position?: number }): Promise<CustomField> {
      const db = fieldsDb(ctx.db);
      const before = await repo.findField(db, id);
      if (!before) throw new AppError('not_found', 'No such custom field');
      let options: string[] | undefined;
      if (patch.options !== undefined) {
        options = checkOptions(before.type, patch.options);
        const inUse = await optionsInUse(ctx, before, before.options.filter((o) => !options!.includes(o)));
        if (inUse.length > 0) throw new AppError('conflict', `Records still hold the options ${inUse.join(', ')}: change them before removing the options`);
      }
      try {
        return await inTx(ctx, async (trx) => {
          const updated = await repo.updateField(fieldsDb(trx), id, {
          ...(patch.key !== undefined ? { key: patch.key } : {}),
          ...(patch.label !== undefined ? { label: patch.label.trim() } : {}),
          ...(options !== undefined ? { options: JSON.stringify(options) } : {}),
          ...(patch.required !== undefined ? { required: patch.required } : {}),
          ...(patch.position !== undefined ? { position: patch.position } : {}),
          updatedBy: ctx.actor.accountId,
          updatedAt: new Date(),
          });
          await auditCrm(trx, ctx, { type: 'custom_field', action: 'updated', id, before, after: updated });
          return updated;
        });
      } catch (error) {
        return keyTaken(error, patch.key);
      }
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await inTx(ctx, async (trx) => {
        const db = fieldsDb(trx);
        const before = await repo.findField(db, id);
        if (!before) throw new AppError('not_found', 'No such custom field');
        const now = new Date();
        const after = await repo.updateField(db, id, { deletedAt: now, updatedAt: now, updatedBy: ctx.actor.accountId });
        await auditCrm(trx, ctx, { type: 'custom_field', action: 'deleted', id, before, after });
        await syncIndex(trx, ctx, after);
      });
    },

    async restore(ctx: RequestContext, id: string): Promise<CustomField> {
      const db = fieldsDb(ctx.db);
      const f = await repo.findField(db, id, { deleted: true });
      if (!f) throw new AppError('not_found', 'No deleted custom field with this id');
      try {
        return await inTx(ctx, async (trx) => {
          const after = await repo.updateField(fieldsDb(trx), id, { deletedAt: null, updatedAt: new Date(), updatedBy: ctx.actor.accountId });
          await auditCrm(trx, ctx, { type: 'custom_field', action: 'restored', id, before: f, after });
          await syncIndex(trx, ctx, after);
          return after;
        });
      } catch (error) {
        return keyTaken(error, f.key);
      }
    },
  };
}

export type CustomFieldsService = ReturnType<typeof createCustomFieldsService>;
