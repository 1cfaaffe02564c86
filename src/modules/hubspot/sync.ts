// The two-way sync of one tenant with HubSpot. Order matters: pipelines, then
// companies, contacts and deals (deals point at the other two); for each type
// the inbound pass runs first, so by the outbound pass every HubSpot change
// since the last run has been reconciled and "HubSpot's value" of a linked
// record is the last agreed one (its link snapshot).
//
// Each field is decided three-way (mapping.ts `decide`): base = the value both
// sides last agreed on, and the field's rule says who wins; a field both sides
// changed under the `manual` rule becomes a conflict and is left alone on both
// sides until someone resolves it.
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { HubSpotError, type HubSpotClient, type HsAssociation, type HsObject } from './client.ts';
import { decide, fieldsOf, fromHubSpot, MODIFIED_PROPERTY, normalise, propertiesOf, ruleFor, same, toHubSpot, UNIQUE_PROPERTY, type Values } from './mapping.ts';
import * as repo from './repository.ts';
import type { Connection, ObjectType, RunCounts } from './tables.ts';

const TYPES: readonly ObjectType[] = ['company', 'contact', 'deal'];
/** HubSpot-defined association type ids (v4): deal → company (primary), deal → contact, contact → company (primary; 279 is the unlabeled one). */
const DEAL_TO_COMPANY = 5;
const DEAL_TO_CONTACT = 3;
const CONTACT_TO_COMPANY = 1;
/** The search API serves at most 10,000 results per query; past that, restart from the last modification time. */
const SEARCH_WINDOW = 10_000;
const MAX_ERRORS = 50;

export interface SyncScope {
  /** Ignore the cursors: pull everything. */
  full?: boolean;
  /** Only these HubSpot ids (webhook-triggered), inbound only. */
  only?: Partial<Record<ObjectType, string[]>>;
}

export interface SyncResult {
  counts: RunCounts;
  errors: Array<{ object: string; id: string | null; message: string }>;
}

export interface SyncDeps {
  db: repo.HsDb;
  client: HubSpotClient;
  conn: Connection;
  batch: number;
  log: FastifyBaseLogger;
}

const isPrimary = (t: HsAssociation['to'][number]) => (t.associationTypes ?? []).some((a) => (a as { typeId?: number }).typeId === CONTACT_TO_COMPANY);

const modifiedMs = (type: ObjectType, o: HsObject): number => {
  const raw = o.properties[MODIFIED_PROPERTY[type]] ?? o.updatedAt ?? null;
  if (!raw) return 0;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(ms) ? ms : 0;
};

export async function runSync(deps: SyncDeps, scope: SyncScope = {}): Promise<SyncResult> {
  const { db, client, conn, batch, log } = deps;
  const result: SyncResult = { counts: repo.emptyCounts(), errors: [] };
  const by = conn.connectedBy;
  const fail = (object: string, id: string | null, e: unknown) => {
    result.counts.failed++;
    if (e instanceof HubSpotError && (e.status === 401 || e.status === 403)) throw e;
    const message = (e as Error).message.slice(0, 500);
    if (result.errors.length < MAX_ERRORS) result.errors.push({ object, id, message });
    log.warn({ object, id, err: message }, 'hubspot sync: record failed');
  };

  // ---- pipelines (HubSpot → Plinth only: HubSpot owns the pipeline structure)
  async function syncPipelines() {
    const { results } = await client.dealPipelines();
    for (const p of results) {
      await db.transaction().execute(async (trx) => {
        const pipelineId = await ensurePipeline(trx, p.id, p.label);
        for (const s of [...p.stages].sort((a, b) => a.displayOrder - b.displayOrder)) await ensureStage(trx, pipelineId, s);
      });
    }
  }

  async function ensurePipeline(trx: repo.HsDb, hubId: string, label: string): Promise<string> {
    const link = await repo.linkByHub(trx, 'pipeline', hubId);
    if (link) return link.plinthId;
    let q = trx.selectFrom('pipelines').select('id').where('deletedAt', 'is', null);
    // HubSpot's built-in pipeline is "default": it pairs with Plinth's default pipeline.
    q = hubId === 'default' ? q.where((eb) => eb.or([eb('isDefault', '=', true), eb(eb.fn('lower', ['name']), '=', label.toLowerCase())])).orderBy('isDefault', 'desc') : q.where(trx.fn('lower', ['name']), '=', label.toLowerCase());
    let id = (await q.executeTakeFirst())?.id;
    if (!id) {
      id = uuidv7();
      const now = new Date();
      await trx.insertInto('pipelines').values({ id, name: label, isDefault: false, createdBy: by, updatedBy: by, createdAt: now, updatedAt: now, deletedAt: null }).execute();
    }
    await repo.saveLink(trx, { objectType: 'pipeline', hubspotId: hubId, plinthId: id, snapshot: { name: label }, plinthSyncedAt: null });
    return id;
  }

  async function ensureStage(trx: repo.HsDb, pipelineId: string, s: { id: string; label: string; displayOrder: number; metadata: Record<string, string> }) {
    if (await repo.linkByHub(trx, 'stage', s.id)) return;
    let id = (await trx.selectFrom('pipelineStages').select('id').where('pipelineId', '=', pipelineId).where(trx.fn('lower', ['name']), '=', s.label.toLowerCase()).executeTakeFirst())?.id;
    if (!id) {
      const probability = Math.round(Math.min(1, Math.max(0, Number(s.metadata.probability ?? 0) || 0)) * 100);
      const closed = s.metadata.isClosed === 'true';
      const kind = !closed ? 'open' : probability >= 100 ? 'won' : 'lost';
      const last = await trx.selectFrom('pipelineStages').select((eb) => eb.fn.max('position').as('max')).where('pipelineId', '=', pipelineId).executeTakeFirst();
      id = uuidv7();
      const now = new Date();
      await trx.insertInto('pipelineStages').values({ id, pipelineId, name: s.label, position: Number(last?.max ?? -1) + 1, probability, kind, createdBy: by, updatedBy: by, createdAt: now, updatedAt: now }).execute();
    }
    await repo.saveLink(trx, { objectType: 'stage', hubspotId: s.id, plinthId: id, snapshot: { name: s.label }, plinthSyncedAt: null });
  }

  // ---- inbound

  /** HubSpot values of a page in Plinth's terms (for deals: stage and associations as Plinth ids). */
  async function hubValuesOf(type: ObjectType, page: HsObject[]): Promise<Map<string, Values>> {
    const out = new Map(page.map((o) => [o.id, fromHubSpot(type, o.properties)]));
    if (type === 'contact' && page.length > 0) {
      // A HubSpot contact may have several companies; Plinth keeps one: the primary when it is synced, else the first synced one.
      const { results } = await client.readAssociations('contact', 'company', page.map((o) => o.id));
      const primaryFirst = (to: HsAssociation['to']) => [...to].sort((x, y) => Number(isPrimary(y)) - Number(isPrimary(x))).map((t) => String(t.toObjectId));
      const contactCompanies = new Map(results.map((a) => [String(a.from.id), primaryFirst(a.to)]));
      const companyIds = await repo.linkMap(db, 'company', 'hubspot', [...contactCompanies.values()].flat());
      for (const o of page) out.get(o.id)!.companyId = (contactCompanies.get(o.id) ?? []).map((h) => companyIds.get(h)).find(Boolean) ?? null;
      return out;
    }
    if (type !== 'deal' || page.length === 0) return out;
    const ids = page.map((o) => o.id);
    const [companies, contacts] = await Promise.all([client.readAssociations('deal', 'company', ids), client.readAssociations('deal', 'contact', ids)]);
    const stages = await repo.linkMap(db, 'stage', 'hubspot', page.map((o) => o.properties.dealstage).filter((s): s is string => !!s));
    const hubTargets = (r: typeof companies.results) => new Map(r.map((a) => [String(a.from.id), a.to.map((t) => String(t.toObjectId))]));
    const dealCompanies = hubTargets(companies.results);
    const dealContacts = hubTargets(contacts.results);
    const companyIds = await repo.linkMap(db, 'company', 'hubspot', [...dealCompanies.values()].flat());
    const contactIds = await repo.linkMap(db, 'contact', 'hubspot', [...dealContacts.values()].flat());
    for (const o of page) {
      const v = out.get(o.id)!;
      v.stageId = (o.properties.dealstage && stages.get(o.properties.dealstage)) ?? null;
      v.companyId = (dealCompanies.get(o.id) ?? []).map((h) => companyIds.get(h)).find(Boolean) ?? null;
      v.contactIds = [...new Set((dealContacts.get(o.id) ?? []).map((h) => contactIds.get(h)).filter((x): x is string => !!x))].sort();
    }
    return out;
  }

  async function inboundPage(type: ObjectType, page: HsObject[]) {
    const values = await hubValuesOf(type, page);
    // One transaction per page (one commit, not one per record); a savepoint per
    // record keeps a failing record from taking the rest of the page with it.
    await db.transaction().execute(async (trx) => {
      for (const o of page) {
        result.counts.pulled++;
        await sql`savepoint hubspot_record`.execute(trx);
        try {
          await inboundOne(trx, type, o, values.get(o.id)!);
          await sql`release savepoint hubspot_record`.execute(trx);
        } catch (e) {
          await sql`rollback to savepoint hubspot_record`.execute(trx);
          fail(type, o.id, e);
        }
      }
    });
  }

  async function inboundOne(trx: repo.HsDb, type: ObjectType, o: HsObject, hub: Values) {
    if (type === 'deal' && !hub.stageId) throw new Error(`HubSpot stage "${o.properties.dealstage}" of pipeline "${o.properties.pipeline}" is not mapped to a Plinth stage`);
    if (type === 'deal' && hub.amount !== null && !hub.currency) hub.currency = conn.defaultCurrency;
    const link = await repo.linkByHub(trx, type, o.id);
    const plinthId = link?.plinthId ?? (await repo.findByKey(trx, type, hub, o.properties.plinth_id ?? null));
    const record = plinthId ? await repo.readRecord(trx, type, plinthId, true) : undefined;
    const stageOf = async (v: Values) => (v.stageId ? await repo.stageById(trx, v.stageId as string) : undefined);
    if (!record) {
      const created = await repo.insertRecord(trx, type, hub, by, await stageOf(hub));
      await repo.saveLink(trx, { objectType: type, hubspotId: o.id, plinthId: created.id, snapshot: hub, plinthSyncedAt: created.updatedAt });
      result.counts.created++;
      return;
    }
    if (record.deletedAt) return; // deleted in Plinth: not brought back (deletions are not synced)
    const base: Values = link && link.plinthId === record.id ? link.snapshot : {};
    const open = await repo.openConflictFields(trx, type, record.id);
    const plinthIsNewer = record.updatedAt.getTime() > modifiedMs(type, o);
    const toPlinth: Values = {};
    const snapshot: Values = { ...base };
    let push = false;
    for (const field of fieldsOf(type)) {
      const p = record.values[field];
      const h = hub[field];
      if (open.has(field)) {
        if (!same(p, h)) await repo.openConflict(trx, { objectType: type, plinthId: record.id, hubspotId: o.id, field, base: base[field], plinth: p, hub: h });
        continue;
      }
      const d = decide(ruleFor(conn.fieldRules, type, field), base[field], p, h, plinthIsNewer);
      if (d.take === 'agree') snapshot[field] = h;
      else if (d.take === 'hubspot') {
        toPlinth[field] = h;
        snapshot[field] = h;
      } else if (d.take === 'keep') continue;
      else if (d.take === 'plinth') {
        // The snapshot holds HubSpot's current value, so the outbound pass sees Plinth as the side to push.
        snapshot[field] = h;
        push = true;
      }
      else {
        await repo.openConflict(trx, { objectType: type, plinthId: record.id, hubspotId: o.id, field, base: base[field], plinth: p, hub: h });
        result.counts.conflicts++;
      }
    }
    let syncedAt = record.updatedAt;
    if (Object.keys(toPlinth).length > 0) {
      syncedAt = await repo.updateRecord(trx, type, record, toPlinth, by, 'stageId' in toPlinth ? await stageOf(toPlinth) : undefined);
      result.counts.updated++;
    }
    await repo.saveLink(trx, { objectType: type, hubspotId: o.id, plinthId: record.id, snapshot, plinthSyncedAt: syncedAt, needsPush: push });
  }

  async function inbound(type: ObjectType) {
    const properties = propertiesOf(type);
    const cursor = scope.full ? undefined : conn.cursors[type];
    let maxSeen = cursor ?? 0;
    let after: string | undefined;
    let since = cursor;
    for (;;) {
      const page = since === undefined ? await client.list(type, properties, batch, after) : await client.searchModifiedSince(type, MODIFIED_PROPERTY[type], since, properties, batch, after);
      await inboundPage(type, page.results);
      for (const o of page.results) maxSeen = Math.max(maxSeen, modifiedMs(type, o));
      after = page.paging?.next?.after;
      if (!after) break;
      if (since !== undefined && Number(after) >= SEARCH_WINDOW) {
        if (maxSeen <= since) break; // 10,000 records share one millisecond: nothing more to gain
        since = maxSeen;
        after = undefined;
      }
    }
    if (maxSeen > 0) {
      conn.cursors = { ...conn.cursors, [type]: maxSeen };
      await db.updateTable('hubspotConnection').set({ cursors: JSON.stringify(conn.cursors) }).execute();
    }
  }

  async function inboundOnly(type: ObjectType, ids: string[]) {
    for (let i = 0; i < ids.length; i += batch) {
      const { results } = await client.batchRead(type, ids.slice(i, i + batch), propertiesOf(type));
      await inboundPage(type, results);
    }
  }

  // ---- outbound

  interface Push {
    record: repo.PlinthRecord;
    hubspotId: string | null;
    /** Fields sent (the new agreed values). */
    fields: Values;
    properties: Record<string, string | null>;
    base: Values;
  }

  async function outbound(type: ObjectType) {
    let afterId: string | null = null;
    for (;;) {
      const records = await repo.changedRecords(db, type, afterId, batch);
      if (records.length === 0) break;
      afterId = records[records.length - 1]!.id;
      const pushes: Push[] = [];
      for (const record of records) {
        try {
          const p = await planPush(type, record);
          if (p) pushes.push(p);
        } catch (e) {
          fail(type, record.id, e);
        }
      }
      await sendPushes(type, pushes);
    }
  }

  async function planPush(type: ObjectType, record: repo.PlinthRecord): Promise<Push | null> {
    const link = await repo.linkByPlinth(db, type, record.id);
    const base: Values = link?.snapshot ?? {};
    const open = link ? await repo.openConflictFields(db, type, record.id) : new Set<string>();
    const fields: Values = {};
    const revert: Values = {};
    for (const field of fieldsOf(type)) {
      if (open.has(field)) continue;
      const rule = ruleFor(conn.fieldRules, type, field);
      const p = record.values[field];
      // Never agreed on (a new record, or a field HubSpot owns that was never pulled): Plinth's value goes out unless HubSpot owns the field.
      if (!link || !(field in base)) {
        if (rule !== 'hubspot') fields[field] = p;
        continue;
      }
      const d = decide(rule, base[field], p, base[field], true);
      if (d.take === 'plinth') fields[field] = p;
      else if (d.take === 'hubspot') revert[field] = base[field];
    }
    if (Object.keys(revert).length > 0) {
      // HubSpot owns these fields: Plinth's edits are undone.
      await db.transaction().execute(async (trx) => {
        const fresh = await repo.readRecord(trx, type, record.id, true);
        if (!fresh) return;
        const at = await repo.updateRecord(trx, type, fresh, revert, by, 'stageId' in revert ? await repo.stageById(trx, revert.stageId as string) : undefined);
        if (Object.keys(fields).length === 0 && link) await repo.saveLink(trx, { objectType: type, hubspotId: link.hubspotId, plinthId: record.id, snapshot: base, plinthSyncedAt: at });
      });
      result.counts.updated++;
    }
    if (Object.keys(fields).length === 0) {
      if (link && Object.keys(revert).length === 0) await repo.saveLink(db, { objectType: type, hubspotId: link.hubspotId, plinthId: record.id, snapshot: base, plinthSyncedAt: record.updatedAt });
      return null;
    }
    const properties = toHubSpot(type, fields);
    if (type === 'deal') {
      properties.plinth_id = record.id;
      if ('stageId' in fields) {
        const stage = await repo.stageById(db, fields.stageId as string);
        const hubStage = (await repo.linkMap(db, 'stage', 'plinth', [fields.stageId as string])).get(fields.stageId as string);
        const hubPipeline = stage && (await repo.linkMap(db, 'pipeline', 'plinth', [stage.pipelineId])).get(stage.pipelineId);
        if (!hubStage || !hubPipeline) throw new Error('The deal\'s stage has no HubSpot counterpart (pipelines come from HubSpot; move the deal to a synced pipeline)');
        properties.pipeline = hubPipeline;
        properties.dealstage = hubStage;
      }
    }
    return { record, hubspotId: link?.hubspotId ?? null, fields, properties, base };
  }

  async function sendPushes(type: ObjectType, pushes: Push[]) {
    const done: Array<{ push: Push; hubspotId: string }> = [];
    const updates = pushes.filter((p) => p.hubspotId);
    const key = UNIQUE_PROPERTY[type];
    const keyOf = (p: Push) => (type === 'deal' ? p.record.id : ((p.record.values[type === 'company' ? 'domain' : 'email'] as string | null) ?? null));
    const upserts = pushes.filter((p) => !p.hubspotId && keyOf(p));
    const creates = pushes.filter((p) => !p.hubspotId && !keyOf(p));
    if (updates.length > 0) {
      try {
        await client.batchUpdate(type, updates.map((p) => ({ id: p.hubspotId!, properties: p.properties })));
        for (const p of updates) done.push({ push: p, hubspotId: p.hubspotId! });
      } catch (e) {
        for (const p of updates) fail(type, p.record.id, e);
      }
    }
    if (upserts.length > 0) {
      try {
        const { results } = await client.batchUpsert(type, key, upserts.map((p) => ({ id: keyOf(p)!, properties: p.properties })));
        const norm = (v: string | null | undefined) => (type === 'company' ? normalise.domain(v) : type === 'contact' ? normalise.email(v) : (v ?? null));
        const byKey = new Map(results.map((r) => [norm(r.properties[key]), r.id]));
        for (const p of upserts) {
          const id = byKey.get(norm(keyOf(p)));
          if (id) done.push({ push: p, hubspotId: id });
          else fail(type, p.record.id, new Error('HubSpot did not return the upserted record'));
        }
      } catch (e) {
        for (const p of upserts) fail(type, p.record.id, e);
      }
    }
    for (const p of creates) {
      try {
        done.push({ push: p, hubspotId: (await client.create(type, p.properties)).id });
      } catch (e) {
        fail(type, p.record.id, e);
      }
    }
    if (type === 'deal') await pushAssociations(done);
    if (type === 'contact') await pushContactCompanies(done);
    await db.transaction().execute(async (trx) => {
      for (const { push, hubspotId } of done) {
        await repo.saveLink(trx, { objectType: type, hubspotId, plinthId: push.record.id, snapshot: { ...push.base, ...push.fields }, plinthSyncedAt: push.record.updatedAt });
        result.counts.pushed++;
      }
    });
  }

  async function pushAssociations(done: Array<{ push: Push; hubspotId: string }>) {
    const plinthCompanies = done.flatMap(({ push: p }) => [p.fields.companyId, p.base.companyId]).filter((x): x is string => typeof x === 'string');
    const plinthContacts = done.flatMap(({ push: p }) => [...((p.fields.contactIds as string[] | undefined) ?? []), ...((p.base.contactIds as string[] | undefined) ?? [])]);
    const companies = await repo.linkMap(db, 'company', 'plinth', plinthCompanies);
    const contacts = await repo.linkMap(db, 'contact', 'plinth', plinthContacts);
    const add: { company: Array<[string, string]>; contact: Array<[string, string]> } = { company: [], contact: [] };
    const remove: typeof add = { company: [], contact: [] };
    for (const { push: p, hubspotId } of done) {
      if ('companyId' in p.fields && !same(p.fields.companyId, p.base.companyId)) {
        const before = p.base.companyId ? companies.get(p.base.companyId as string) : undefined;
        const after = p.fields.companyId ? companies.get(p.fields.companyId as string) : undefined;
        if (before) remove.company.push([hubspotId, before]);
        if (after) add.company.push([hubspotId, after]);
      }
      if ('contactIds' in p.fields) {
        const before = new Set((p.base.contactIds as string[] | undefined) ?? []);
        const after = new Set((p.fields.contactIds as string[]) ?? []);
        for (const c of after) if (!before.has(c) && contacts.get(c)) add.contact.push([hubspotId, contacts.get(c)!]);
        for (const c of before) if (!after.has(c) && contacts.get(c)) remove.contact.push([hubspotId, contacts.get(c)!]);
      }
    }
    for (const to of ['company', 'contact'] as const) {
      for (let i = 0; i < remove[to].length; i += batch) await client.archiveAssociations('deal', to, remove[to].slice(i, i + batch));
      for (let i = 0; i < add[to].length; i += batch) await client.createAssociations('deal', to, to === 'company' ? DEAL_TO_COMPANY : DEAL_TO_CONTACT, add[to].slice(i, i + batch));
    }
  }

  /** A contact whose company changed in Plinth: the old contact → company association goes, the new one is made primary. */
  async function pushContactCompanies(done: Array<{ push: Push; hubspotId: string }>) {
    const changed = done.filter(({ push: p }) => 'companyId' in p.fields && !same(p.fields.companyId, p.base.companyId));
    const companies = await repo.linkMap(db, 'company', 'plinth', changed.flatMap(({ push: p }) => [p.fields.companyId, p.base.companyId]).filter((x): x is string => typeof x === 'string'));
    const remove: Array<[string, string]> = [];
    const add: Array<[string, string]> = [];
    for (const { push: p, hubspotId } of changed) {
      const before = p.base.companyId ? companies.get(p.base.companyId as string) : undefined;
      const after = p.fields.companyId ? companies.get(p.fields.companyId as string) : undefined;
      if (before) remove.push([hubspotId, before]);
      if (after) add.push([hubspotId, after]);
    }
    for (let i = 0; i < remove.length; i += batch) await client.archiveAssociations('contact', 'company', remove.slice(i, i + batch));
    for (let i = 0; i < add.length; i += batch) await client.createAssociations('contact', 'company', CONTACT_TO_COMPANY, add.slice(i, i + batch));
  }

  // ---- the run
  if (scope.only) {
    if (scope.only.deal?.length) await syncPipelines();
    for (const type of TYPES) if (scope.only[type]?.length) await inboundOnly(type, scope.only[type]!);
    return result;
  }
  await syncPipelines();
  await client.ensureDealIdProperty();
  for (const type of TYPES) {
    await inbound(type);
    await outbound(type);
  }
  return result;
}
