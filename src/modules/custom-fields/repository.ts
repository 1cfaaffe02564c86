// Data access for custom field definitions.
import type { Insertable, Kysely, Updateable } from 'kysely';
import type { CustomFieldsTable, CustomFieldsTables, CustomObject } from './tables.ts';

export type CustomFieldsDb = Kysely<CustomFieldsTables>;

export const fieldsOf = (db: CustomFieldsDb, object: CustomObject, opts: { deleted?: boolean } = {}) =>
  db.selectFrom('customFields').selectAll().where('object', '=', object).where('deletedAt', opts.deleted ? 'is not' : 'is', null).orderBy('position').orderBy('createdAt').execute();

export const listFields = (db: CustomFieldsDb, filter: { object?: CustomObject; deleted: boolean }) =>
  db
    .selectFrom('customFields')
    .selectAll()
    .where('deletedAt', filter.deleted ? 'is not' : 'is', null)
    .$if(filter.object !== undefined, (q) => q.where('object', '=', filter.object!))
    .orderBy('object')
    .orderBy('position')
    .orderBy('createdAt')
    .execute();

export const findField = (db: CustomFieldsDb, id: string, opts: { deleted?: boolean } = {}) =>
  db.selectFrom('customFields').selectAll().where('id', '=', id).where('deletedAt', opts.deleted ? 'is not' : 'is', null).executeTakeFirst();

export const insertField = (db: CustomFieldsDb, row: Insertable<CustomFieldsTable>) => db.insertInto('customFields').values(row).returningAll().executeTakeFirstOrThrow();

export const updateField = (db: CustomFieldsDb, id: string, patch: Updateable<CustomFieldsTable>) =>
  db.updateTable('customFields').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
