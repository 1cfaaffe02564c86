// What importing means per object: the fields a CSV column can map to, how a
// cell becomes a value (errors name the field), the duplicate key (company
// domain, contact primary email, deal name), and the batch writes. Writes go
// straight to the tables (multi-row inserts per batch) with the same
// invariants the services keep: change-log rows for timelines, a stage
// history row for every new deal.
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { normaliseDomain } from '../companies/domain.ts';
import type { ImportObject } from './tables.ts';
import { withPrimary } from '../contacts/service.ts';
import { DECIMAL, isCalendarDate } from '../custom-fields/values.ts';

export interface RowError {
  field?: string;
  detail: string;
}

/** A parsed row: standard values (as columns), custom input by key, its duplicate key. */
export interface ParsedRow {
  line: number;
  values: Record<string, unknown>;
  custom: Record<string, unknown>;
  key: string | null;
  errors: RowError[];
}

export interface WriteMeta {
  by: string;
  at: Date;
}

export interface ImportSpec {
  table: 'companies' | 'contacts' | 'deals';
  /** Fields a column may map to (custom fields too, as custom.<key>, when `custom` is set). */
  fields: readonly string[];
  custom: boolean;
  /** The row's values from its cells (field → raw text, blanks already dropped). */
  parse(cells: Record<string, string>, row: ParsedRow): void;
  /** Existing live records by duplicate key. */
  existing(db: Kysely<any>, keys: readonly string[]): Promise<Map<string, { id: string; custom?: Record<string, unknown> }>>;
  /** References (company by domain, stage by name) resolved for a batch; unknown ones become row errors. */
  resolve?(db: Kysely<any>, rows: ParsedRow[]): Promise<void>;
  /** Values of a new record (id given) as inserted. */
  insertRow(id: string, values: Record<string, unknown>, meta: WriteMeta): Record<string, unknown>;
  /** Extra rows after the batch's inserts (deal stage history). */
  afterInsert?(db: Kysely<any>, created: Array<{ id: string; values: Record<string, unknown> }>, meta: WriteMeta): Promise<void>;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;
const PHONE = /^[+0-9][0-9 ().-]{2,39}$/;
const list = (raw: string) => raw.split(';').map((x) => x.trim()).filter(Boolean);

function text(row: ParsedRow, cells: Record<string, string>, field: string, max: number): void {
  const v = cells[field];
  if (v === undefined) return;
  if (v.length > max) row.errors.push({ field, detail: `too long (at most ${max} characters)` });
  else row.values[field] = v;
}


async function companiesByDomain(db: Kysely<any>, rows: ParsedRow[]): Promise<void> {
  const domains = [...new Set(rows.map((r) => r.values.companyDomain as string | undefined).filter((d): d is string => !!d))];
  if (domains.length === 0) return;
  const found = new Map((await db.selectFrom('companies').select(['id', 'domain']).where('domain', 'in', domains).where('deletedAt', 'is', null).execute()).map((c) => [c.domain as string, c.id as string]));
  for (const r of rows) {
    const d = r.values.companyDomain as string | undefined;
    delete r.values.companyDomain;
    if (!d) continue;
    const id = found.get(d);
    if (id) r.values.companyId = id;
    else r.errors.push({ field: 'companyDomain', detail: `no company with the domain ${d}` });
  }
}

function companyDomain(row: ParsedRow, cells: Record<string, string>): void {
  if (cells.companyDomain === undefined) return;
  const d = normaliseDomain(cells.companyDomain);
  if (d) row.values.companyDomain = d;
  else row.errors.push({ field: 'companyDomain', detail: `"${cells.companyDomain}" is not a domain name` });
}

const base = (id: string, meta: WriteMeta) => ({ id, createdBy: meta.by, updatedBy: meta.by, ownerId: meta.by, createdAt: meta.at, updatedAt: meta.at, deletedAt: null });

const company: ImportSpec = {
  table: 'companies',
  fields: ['name', 'domain', 'industry', 'employees', 'address'],
  custom: true,
  parse(cells, row) {
    text(row, cells, 'name', 200);
    text(row, cells, 'industry', 500);
    text(row, cells, 'address', 500);
    if (cells.employees !== undefined) {
      if (/^\d{1,8}$/.test(cells.employees)) row.values.employees = Number(cells.employees);
      else row.errors.push({ field: 'employees', detail: 'not a whole number' });
    }
    if (cells.domain !== undefined) {
      const d = normaliseDomain(cells.domain);
      if (d) row.values.domain = row.key = d;
      else row.errors.push({ field: 'domain', detail: `"${cells.domain}" is not a domain name` });
    }
  },
  existing: async (db, keys) =>
    new Map((await db.selectFrom('companies').select(['id', 'domain', 'custom']).where('domain', 'in', keys).where('deletedAt', 'is', null).execute()).map((c) => [c.domain as string, { id: c.id as string, custom: c.custom as Record<string, unknown> }])),
  insertRow: (id, values, meta) => ({ name: '', ...values, ...base(id, meta) }),
};

const contact: ImportSpec = {
  table: 'contacts',
  fields: ['firstName', 'lastName', 'email', 'emails', 'phone', 'phones', 'jobTitle', 'companyDomain'],
  custom: false,
  parse(cells, row) {
    text(row, cells, 'firstName', 100);
    text(row, cells, 'lastName', 100);
    text(row, cells, 'jobTitle', 200);
    const emails = cells.emails !== undefined ? list(cells.emails) : [];
    const phones = cells.phones !== undefined ? list(cells.phones) : [];
    for (const e of [...(cells.email !== undefined ? [cells.email] : []), ...emails]) if (!EMAIL.test(e)) row.errors.push({ field: cells.email === e ? 'email' : 'emails', detail: `"${e}" is not an email address` });
    for (const p of [...(cells.phone !== undefined ? [cells.phone] : []), ...phones]) if (!PHONE.test(p)) row.errors.push({ field: cells.phone === p ? 'phone' : 'phones', detail: `"${p}" is not a phone number` });
    if (cells.email !== undefined || cells.emails !== undefined) {
      row.values.emails = withPrimary(emails, cells.email);
      row.values.email = (row.values.emails as string[])[0] ?? null;
      if (row.values.email) row.key = (row.values.email as string).toLowerCase();
    }
    if (cells.phone !== undefined || cells.phones !== undefined) {
      row.values.phones = withPrimary(phones, cells.phone);
      row.values.phone = (row.values.phones as string[])[0] ?? null;
    }
    companyDomain(row, cells);
  },
  existing: async (db, keys) =>
    new Map((await db.selectFrom('contacts').select(['id', sql<string>`lower(email)`.as('key')]).where(sql`lower(email)`, 'in', keys).where('deletedAt', 'is', null).execute()).map((c) => [c.key as string, { id: c.id as string }])),
  resolve: companiesByDomain,
  insertRow: (id, values, meta) => ({ firstName: '', ...values, ...base(id, meta) }),
};

const deal: ImportSpec = {
  table: 'deals',
  fields: ['name', 'amount', 'currency', 'closeDate', 'pipeline', 'stage', 'companyDomain'],
  custom: true,
  parse(cells, row) {
    text(row, cells, 'name', 200);
    if (row.values.name) row.key = (row.values.name as string).toLowerCase();
    if (cells.amount !== undefined) {
      if (DECIMAL.test(cells.amount)) row.values.amount = cells.amount;
      else row.errors.push({ field: 'amount', detail: 'not an amount (digits, at most 2 decimals)' });
    }
    if (cells.currency !== undefined) {
      if (/^[A-Za-z]{3}$/.test(cells.currency)) row.values.currency = cells.currency.toUpperCase();
      else row.errors.push({ field: 'currency', detail: 'not a 3-letter currency code' });
    }
    if (row.values.amount !== undefined && row.values.currency === undefined) row.errors.push({ field: 'currency', detail: 'required with an amount' });
    if (cells.closeDate !== undefined) {
      if (isCalendarDate(cells.closeDate)) row.values.closeDate = cells.closeDate;
      else row.errors.push({ field: 'closeDate', detail: 'not a calendar date YYYY-MM-DD' });
    }
    if (cells.pipeline !== undefined) row.values.pipeline = cells.pipeline;
    if (cells.stage !== undefined) row.values.stage = cells.stage;
    companyDomain(row, cells);
  },
  existing: async (db, keys) =>
    new Map(
      (await db.selectFrom('deals').select(['id', 'custom', sql<string>`lower(name)`.as('key')]).where(sql`lower(name)`, 'in', keys).where('deletedAt', 'is', null).orderBy('createdAt').execute()).map((d) => [
        d.key as string,
        { id: d.id as string, custom: d.custom as Record<string, unknown> },
      ]),
    ),
  async resolve(db, rows) {
    await companiesByDomain(db, rows);
    // Stage by name within the named pipeline (default pipeline when none); no stage: the pipeline's first.
    const pipelines = await db.selectFrom('pipelines').select(['id', 'name', 'isDefault']).where('deletedAt', 'is', null).execute();
    const stages = await db.selectFrom('pipelineStages').select(['id', 'pipelineId', 'name', 'position']).orderBy('position').execute();
    const fallback = pipelines.find((p) => p.isDefault);
    for (const r of rows) {
      const pName = r.values.pipeline as string | undefined;
      const sName = r.values.stage as string | undefined;
      delete r.values.pipeline;
      delete r.values.stage;
      const pipeline = pName ? pipelines.find((p) => (p.name as string).toLowerCase() === pName.toLowerCase()) : fallback;
      if (!pipeline) {
        r.errors.push({ field: 'pipeline', detail: pName ? `no pipeline named ${pName}` : 'no default pipeline' });
        continue;
      }
      const own = stages.filter((s) => s.pipelineId === pipeline.id);
      const stage = sName ? own.find((s) => (s.name as string).toLowerCase() === sName.toLowerCase()) : own[0];
      if (!stage) {
        r.errors.push({ field: 'stage', detail: `no stage named ${sName ?? '(first)'} in pipeline ${pipeline.name as string}` });
        continue;
      }
      r.values.pipelineId = pipeline.id;
      r.values.stageId = stage.id;
    }
  },
  insertRow: (id, values, meta) => ({ name: '', ...values, stageChangedAt: meta.at, ...base(id, meta) }),
  async afterInsert(db, created, meta) {
    if (created.length === 0) return;
    await db
      .insertInto('dealStageHistory')
      .values(created.map((c) => ({ id: uuidv7(), dealId: c.id, fromStageId: null, toStageId: c.values.stageId, changedAt: meta.at, changedBy: meta.by })))
      .execute();
  },
};

export const SPECS: Record<ImportObject, ImportSpec> = { company, contact, deal };

/** Required standard field per object (reported as `required` when missing on a new record). */
export const REQUIRED: Record<ImportObject, string> = { company: 'name', contact: 'firstName', deal: 'name' };
