// Plain Kysely functions over the tenant's schema: the integration's own
// tables, and the CRM tables read and written by the sync (companies,
// contacts, deals are queried here rather than through their modules'
// services, which need a request actor and run their own transactions).
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { TenantDb } from '../../platform/context.ts';
import { recordChange } from '../companies/changes.ts';
import { withNewPrimary } from '../contacts/repository.ts';
import type { DealsTables } from '../deals/tables.ts';
import { fieldsOf, normalise, type Values } from './mapping.ts';
import type { Conflict, HubspotTables, LinkType, ObjectType, RunCounts } from './tables.ts';

export type Tables = HubspotTables & DealsTables;
export type HsDb = Kysely<Tables>;
export const hsDb = (db: TenantDb | Kysely<any>): HsDb => (db as TenantDb).withTables<Tables>() as unknown as HsDb;

// ---- connection

export const getConnection = (db: HsDb) => db.selectFrom('hubspotConnection').selectAll().executeTakeFirst();

// ---- links

export const linkByHub = (db: HsDb, type: LinkType, hubspotId: string) =>
  db.selectFrom('hubspotLinks').selectAll().where('objectType', '=', type).where('hubspotId', '=', hubspotId).executeTakeFirst();

export const linkByPlinth = (db: HsDb, type: LinkType, plinthId: string) =>
  db.selectFrom('hubspotLinks').selectAll().where('objectType', '=', type).where('plinthId', '=', plinthId).executeTakeFirst();

/** hubspot id → plinth id (or the reverse) for many ids at once. */
export async function linkMap(db: HsDb, type: LinkType, by: 'hubspot' | 'plinth', ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('hubspotLinks').select(['hubspotId', 'plinthId']).where('objectType', '=', type).where(by === 'hubspot' ? 'hubspotId' : 'plinthId', 'in', ids).execute();
  return new Map(rows.map((r) => (by === 'hubspot' ? [r.hubspotId, r.plinthId] : [r.plinthId, r.hubspotId])));
}

export async function saveLink(db: HsDb, link: { objectType: LinkType; hubspotId: string; plinthId: string; snapshot: Values; plinthSyncedAt: Date | null; needsPush?: boolean }): Promise<void> {
  // A Plinth record relinked to another HubSpot id (merged there) drops its old link first.
  await db.deleteFrom('hubspotLinks').where('objectType', '=', link.objectType).where('plinthId', '=', link.plinthId).where('hubspotId', '<>', link.hubspotId).execute();
  const needsPush = link.needsPush ?? false;
  const values = { ...link, snapshot: JSON.stringify(link.snapshot), needsPush, syncedAt: new Date() };
  await db
    .insertInto('hubspotLinks')
    .values(values)
    .onConflict((oc) => oc.columns(['objectType', 'hubspotId']).doUpdateSet({ plinthId: link.plinthId, snapshot: values.snapshot, plinthSyncedAt: link.plinthSyncedAt, needsPush, syncedAt: values.syncedAt }))
    .execute();
}

// ---- CRM records in the common normal form

export interface PlinthRecord {
  id: string;
  values: Values;
  updatedAt: Date;
  deletedAt: Date | null;
}

const TABLE = { company: 'companies', contact: 'contacts', deal: 'deals' } as const;

async function dealExtras(db: HsDb, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('dealContacts').select(['dealId', 'contactId']).where('dealId', 'in', ids).orderBy('contactId').execute();
  for (const r of rows) out.get(r.dealId)!.push(r.contactId);
  return out;
}

function valuesOf(type: ObjectType, row: Record<string, any>, contactIds?: string[]): Values {
  if (type === 'company') return { name: normalise.text(row.name), domain: normalise.domain(row.domain), industry: normalise.text(row.industry), employees: row.employees ?? null, address: normalise.text(row.address) };
  if (type === 'contact') return { firstName: normalise.text(row.firstName), lastName: normalise.text(row.lastName), email: normalise.email(row.email), phone: normalise.text(row.phone), jobTitle: normalise.text(row.jobTitle), companyId: row.companyId ?? null };
  return {
    name: normalise.text(row.name),
    amount: normalise.amount(row.amount),
    currency: normalise.currency(row.currency),
    closeDate: row.closeDate ?? null,
    stageId: row.stageId,
    companyId: row.companyId ?? null,
    contactIds: contactIds ?? [],
  };
}

async function readMany(db: HsDb, type: ObjectType, rows: Array<Record<string, any>>): Promise<PlinthRecord[]> {
  const contacts = type === 'deal' ? await dealExtras(db, rows.map((r) => r.id)) : undefined;
  return rows.map((r) => ({ id: r.id, values: valuesOf(type, r, contacts?.get(r.id)), updatedAt: r.updatedAt, deletedAt: r.deletedAt }));
}

const selectRecord = (db: HsDb, type: ObjectType) => {
  const q = db.selectFrom(TABLE[type] as 'deals').selectAll(TABLE[type] as 'deals');
  return type === 'deal' ? q.select(sql<string | null>`close_date::text`.as('closeDate')) : q;
};

export async function readRecord(db: HsDb, type: ObjectType, id: string, forUpdate = false): Promise<PlinthRecord | undefined> {
  let q = selectRecord(db, type).where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? (await readMany(db, type, [row]))[0] : undefined;
}

/** The live record that names the same thing (company domain, contact email, a deal's own id). */
export async function findByKey(db: HsDb, type: ObjectType, values: Values, plinthIdProperty: string | null): Promise<string | undefined> {
  if (type === 'company' && values.domain) {
    return (await db.selectFrom('companies').select('id').where('domain', '=', values.domain as string).where('deletedAt', 'is', null).executeTakeFirst())?.id;
  }
  if (type === 'contact' && values.email) {
    return (await db.selectFrom('contacts').select('id').where(sql`lower(email)`, '=', values.email as string).where('deletedAt', 'is', null).executeTakeFirst())?.id;
  }
  if (type === 'deal' && plinthIdProperty && /^[0-9a-f-]{36}$/i.test(plinthIdProperty)) {
    return (await db.selectFrom('deals').select('id').where('id', '=', plinthIdProperty).where('deletedAt', 'is', null).executeTakeFirst())?.id;
  }
  return undefined;
}

function columnsOf(type: ObjectType, v: Values): Record<string, unknown> {
  const has = (k: string) => k in v;
  const pick = (pairs: Array<[string, unknown]>) => Object.fromEntries(pairs.filter(([k]) => has(k)));
  if (type === 'company') return { ...pick([['domain', v.domain], ['industry', v.industry], ['employees', v.employees], ['address', v.address]]), ...(has('name') ? { name: v.name ?? '' } : {}) };
  if (type === 'contact') return { ...pick([['lastName', v.lastName], ['email', v.email], ['phone', v.phone], ['jobTitle', v.jobTitle], ['companyId', v.companyId]]), ...(has('firstName') ? { firstName: v.firstName ?? '' } : {}) };
  return { ...pick([['amount', v.amount], ['currency', v.currency], ['closeDate', v.closeDate], ['companyId', v.companyId]]), ...(has('name') ? { name: v.name ?? '' } : {}) };
}

/** Creates a record from synced values; `by` is the account that connected HubSpot. Returns its updated_at. */
export async function insertRecord(db: HsDb, type: ObjectType, values: Values, by: string, stage?: { id: string; pipelineId: string }): Promise<{ id: string; updatedAt: Date }> {
  const id = uuidv7();
  const now = new Date();
  const base = { id, ownerId: null, createdBy: by, updatedBy: by, createdAt: now, updatedAt: now, deletedAt: null };
  const cols = columnsOf(type, { ...Object.fromEntries(fieldsOf(type).map((f) => [f, null])), ...values });
  if (type === 'deal') {
    await db.insertInto('deals').values({ ...base, ...(cols as any), pipelineId: stage!.pipelineId, stageId: stage!.id, stageChangedAt: now }).execute();
    await setContacts(db, id, (values.contactIds as string[] | undefined) ?? []);
    await db.insertInto('dealStageHistory').values({ id: uuidv7(), dealId: id, fromStageId: null, toStageId: stage!.id, changedAt: now, changedBy: by }).execute();
  } else if (type === 'contact') {
    // `email`/`phone` are the primaries of the contact's lists (contacts/repository.ts).
    const list = (v: unknown) => (typeof v === 'string' && v ? [v] : []);
    await db.insertInto('contacts').values({ ...base, ...(cols as any), emails: list(cols.email), phones: list(cols.phone) }).execute();
  } else {
    await db.insertInto(TABLE[type] as 'companies').values({ ...base, ...(cols as any) }).execute();
  }
  await recordChange(db, { recordType: type, recordId: id, action: 'created', by, at: now });
  return { id, updatedAt: now };
}

async function setContacts(db: HsDb, dealId: string, contactIds: readonly string[]) {
  await db.deleteFrom('dealContacts').where('dealId', '=', dealId).execute();
  if (contactIds.length > 0) await db.insertInto('dealContacts').values(contactIds.map((contactId) => ({ dealId, contactId }))).onConflict((oc) => oc.doNothing()).execute();
}

/** Applies synced field values to a record (with its change log and, for deals, stage history). Returns the new updated_at. */
export async function updateRecord(db: HsDb, type: ObjectType, before: PlinthRecord, changes: Values, by: string, stage?: { id: string; pipelineId: string }): Promise<Date> {
  const now = new Date();
  const cols = columnsOf(type, changes);
  if (type === 'deal' && stage && stage.id !== before.values.stageId) Object.assign(cols, { pipelineId: stage.pipelineId, stageId: stage.id, stageChangedAt: now });
  if (type === 'contact') {
    // A new primary email/phone goes first in its list, as through the contacts API.
    for (const [primary, list] of [['email', 'emails'], ['phone', 'phones']] as const) {
      if (!(primary in cols)) continue;
      const value = (cols[primary] as string | null) ?? null;
      Object.assign(cols, { [list]: withNewPrimary(list, primary, value), [primary]: sql<string>`(${withNewPrimary(list, primary, value)})[1]` });
    }
  }
  await db.updateTable(TABLE[type] as 'deals').set({ ...(cols as any), updatedBy: by, updatedAt: now }).where('id', '=', before.id).execute();
  if (type === 'deal' && 'contactIds' in changes) await setContacts(db, before.id, changes.contactIds as string[]);
  if (type === 'deal' && stage && stage.id !== before.values.stageId) {
    await db.insertInto('dealStageHistory').values({ id: uuidv7(), dealId: before.id, fromStageId: before.values.stageId as string, toStageId: stage.id, changedAt: now, changedBy: by }).execute();
  }
  const diff = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, [before.values[k] ?? null, v ?? null] as [unknown, unknown]]));
  await recordChange(db, { recordType: type, recordId: before.id, action: 'updated', changes: diff, by, at: now });
  return now;
}

/** Live records Plinth changed since the sync last left them (or never synced), by id, a page at a time. */
export async function changedRecords(db: HsDb, type: ObjectType, afterId: string | null, limit: number): Promise<PlinthRecord[]> {
  let q = selectRecord(db, type)
    .leftJoin('hubspotLinks as l', (j) => j.on('l.objectType', '=', type).onRef('l.plinthId', '=', `${TABLE[type] as 'deals'}.id`))
    .where(`${TABLE[type] as 'deals'}.deletedAt`, 'is', null)
    .where((eb) => eb.or([eb('l.plinthId', 'is', null), eb('l.needsPush', '=', true), eb('l.plinthSyncedAt', 'is', null), eb(`${TABLE[type] as 'deals'}.updatedAt`, '>', eb.ref('l.plinthSyncedAt'))]))
    .orderBy(`${TABLE[type] as 'deals'}.id`)
    .limit(limit);
  if (afterId) q = q.where(`${TABLE[type] as 'deals'}.id`, '>', afterId);
  return readMany(db, type, (await q.execute()) as Array<Record<string, any>>);
}

export const stageById = (db: HsDb, id: string) => db.selectFrom('pipelineStages').select(['id', 'pipelineId']).where('id', '=', id).executeTakeFirst();

// ---- conflicts

/** Opens a conflict for a record field, or refreshes the values of the open one. */
export async function openConflict(db: HsDb, c: { objectType: ObjectType; plinthId: string; hubspotId: string; field: string; base: unknown; plinth: unknown; hub: unknown }): Promise<void> {
  const json = (v: unknown) => JSON.stringify(v ?? null);
  const values = { id: uuidv7(), objectType: c.objectType, plinthId: c.plinthId, hubspotId: c.hubspotId, field: c.field, baseValue: json(c.base), plinthValue: json(c.plinth), hubspotValue: json(c.hub), detectedAt: new Date() };
  await db
    .insertInto('hubspotConflicts')
    .values(values)
    .onConflict((oc) => oc.columns(['objectType', 'plinthId', 'field']).where('resolvedAt', 'is', null).doUpdateSet({ hubspotId: c.hubspotId, plinthValue: values.plinthValue, hubspotValue: values.hubspotValue, detectedAt: values.detectedAt }))
    .execute();
}

export async function openConflictFields(db: HsDb, type: ObjectType, plinthId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('hubspotConflicts').select('field').where('objectType', '=', type).where('plinthId', '=', plinthId).where('resolvedAt', 'is', null).execute();
  return new Set(rows.map((r) => r.field));
}

export const listConflicts = (db: HsDb, status: 'open' | 'resolved', limit: number) =>
  db.selectFrom('hubspotConflicts').selectAll().where('resolvedAt', status === 'open' ? 'is' : 'is not', null).orderBy('detectedAt', 'desc').orderBy('id', 'desc').limit(limit).execute();

export const conflictById = (db: HsDb, id: string, forUpdate = false): Promise<Conflict | undefined> => {
  const q = db.selectFrom('hubspotConflicts').selectAll().where('id', '=', id);
  return (forUpdate ? q.forUpdate() : q).executeTakeFirst();
};

// ---- runs and webhook events

export const emptyCounts = (): RunCounts => ({ pulled: 0, created: 0, updated: 0, pushed: 0, conflicts: 0, failed: 0 });

export const latestRun = (db: HsDb) => db.selectFrom('hubspotSyncRuns').selectAll().orderBy('startedAt', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();

/** True the first time an event id is seen. */
export async function firstSighting(db: HsDb, e: { eventId: string; subscriptionType: string; objectId: string | null }): Promise<boolean> {
  const row = await db.insertInto('hubspotWebhookEvents').values(e).onConflict((oc) => oc.column('eventId').doNothing()).returning('eventId').executeTakeFirst();
  return row !== undefined;
}
