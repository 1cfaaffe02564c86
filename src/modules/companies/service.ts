// Business rules for companies. Every function takes the request context
// first; `ctx.db` is scoped to the tenant's schema.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import type { Db } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { isUniqueViolation } from '../../platform/db/pg-errors.ts';
import { decodeCursor, parseSort, toPage } from '../views/keyset.ts';
import { parseFilters, prefixTsQuery, resolverFor, sortableField } from '../views/filters.ts';
import { diff, diffCustom, recordChange } from './changes.ts';
import { normaliseDomain } from './domain.ts';
import { assertMember } from '../identity/members.ts';
import * as repo from './repository.ts';
import type { CompaniesTables, Company } from './tables.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import { applyCustomValues, presentCustom } from '../custom-fields/values.ts';
import type { CustomField, CustomFieldsTables } from '../custom-fields/tables.ts';
import { ownerInScope } from '../../platform/record-scope.ts';
import type { DomainEvents } from '../../platform/events/events.ts';
import { auditCrm, changedFields } from './write-log.ts';

export interface CompanyInput {
  name: string;
  domain?: string | null;
  industry?: string | null;
  employees?: number | null;
  address?: string | null;
  ownerId?: string | null;
  custom?: Record<string, unknown>;
}

export interface CompanyListQuery {
  limit: number;
  cursor?: string;
  domain?: string;
  ownerId?: string;
  industry?: string;
  q?: string;
  filter?: string[];
  search?: string;
  sort?: string;
  deleted: boolean;
}

const companiesDb = (db: RequestContext['db']): repo.CompaniesDb => db.withTables<CompaniesTables>();
const customFieldsOf = (db: RequestContext['db']) => fieldsOf(db.withTables<CustomFieldsTables>(), 'company');

/** A company as the API shows it: custom values by field key. */
export type CompanyView = Omit<Company, 'custom'> & { custom: Record<string, unknown> };
const present = (fields: readonly CustomField[], c: Company): CompanyView => ({ ...c, custom: presentCustom(fields, c.custom) });
const clean = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);

function domainOf(input: string | null | undefined): string | null | undefined {
  if (input === undefined || input === null) return input;
  if (!input.trim()) return null;
  const d = normaliseDomain(input);
  if (!d) throw new AppError('validation_failed', `"${input}" is not a domain name`, { errors: [{ in: 'body', pointer: '/domain', detail: 'not a domain name' }] });
  return d;
}

function domainTaken(error: unknown, domain: string | null | undefined): never {
  if (isUniqueViolation(error, 'companies_domain_live_unique')) {
    throw new AppError('company_domain_taken', `A company with the domain ${domain ?? ''} already exists in this tenant`, {
      errors: [{ in: 'body', pointer: '/domain', detail: 'already used by another company' }],
      cause: error,
    });
  }
  throw error;
}

const scope = (ctx: RequestContext, permission: 'read' | 'write' | 'delete') => ownerInScope(ctx, `crm.companies.${permission}`, 'ownerId');

export function createCompaniesService(deps: { db: Db; events: DomainEvents }) {
  return {
    async create(ctx: RequestContext, input: CompanyInput): Promise<CompanyView> {
      const ownerId = input.ownerId === undefined ? ctx.actor.accountId : input.ownerId;
      await assertMember(deps.db, ctx, ownerId, '/ownerId');
      const domain = domainOf(input.domain) ?? null;
      const now = new Date();
      try {
        const fields = await customFieldsOf(ctx.db);
        return await ctx.db.transaction().execute(async (trx) => {
          const custom = await applyCustomValues(trx, fields, {}, input.custom, { creating: true });
          const company = await repo.insertCompany(companiesDb(trx), {
            id: uuidv7(),
            name: input.name.trim(),
            domain,
            industry: clean(input.industry) ?? null,
            employees: input.employees ?? null,
            address: clean(input.address) ?? null,
            custom: JSON.stringify(custom),
            ownerId,
            createdBy: ctx.actor.accountId,
            updatedBy: ctx.actor.accountId,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          });
          await recordChange(trx, { recordType: 'company', recordId: company.id, action: 'created', by: ctx.actor.accountId, at: now });
          await deps.events.publish(trx, ctx, 'crm.company.created', { id: company.id, name: company.name, domain: company.domain, ownerId: company.ownerId });
          await auditCrm(trx, ctx, { type: 'company', action: 'created', id: company.id, before: null, after: company });
          return present(fields, company);
        });
      } catch (error) {
        return domainTaken(error, domain);
      }
    },

    async get(ctx: RequestContext, id: string): Promise<CompanyView> {
      const company = await repo.findCompany(companiesDb(ctx.db), scope(ctx, 'read'), id);
      if (!company) throw new AppError('not_found', 'No such company');
      return present(await customFieldsOf(ctx.db), company);
    },

    async list(ctx: RequestContext, query: CompanyListQuery) {
      const fields = await customFieldsOf(ctx.db);
      const resolve = resolverFor(repo.FIELDS, fields);
      const sort = parseSort(query.sort ?? '-createdAt', (name) => sortableField(resolve(name)));
      const conditions = parseFilters(query.filter, resolve);
      const search = query.search === undefined ? undefined : (prefixTsQuery(query.search) ?? undefined);
      const after = query.cursor ? decodeCursor(query.cursor, sort) : undefined;
      const domain = query.domain === undefined ? undefined : (normaliseDomain(query.domain) ?? query.domain.trim().toLowerCase());
      const rows = await repo.listCompanies(
        companiesDb(ctx.db),
        scope(ctx, 'read'),
        { domain, ownerId: query.ownerId, industry: query.industry?.trim() || undefined, q: query.q?.trim() || undefined, deleted: query.deleted, conditions, search },
        sort,
        query.limit + 1,
        after,
      );
      const page = toPage(rows, query.limit, sort);
      return { data: page.data.map((c) => present(fields, c)), nextCursor: page.nextCursor };
    },

    async update(ctx: RequestContext, id: string, patch: Partial<CompanyInput>): Promise<CompanyView> {
      await assertMember(deps.db, ctx, patch.ownerId, '/ownerId');
      const domain = domainOf(patch.domain);
      const changes = {
        ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
        ...(domain !== undefined ? { domain } : {}),
        ...(patch.industry !== undefined ? { industry: clean(patch.industry) } : {}),
        ...(patch.employees !== undefined ? { employees: patch.employees } : {}),
        ...(patch.address !== undefined ? { address: clean(patch.address) } : {}),
        ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
      };
      try {
        const fields = await customFieldsOf(ctx.db);
        return await ctx.db.transaction().execute(async (trx) => {
          const db = companiesDb(trx);
          const before = await repo.findCompanyForUpdate(db, scope(ctx, 'write'), id);
          if (!before) throw new AppError('not_found', 'No such company');
          const now = new Date();
          const custom = patch.custom === undefined ? undefined : await applyCustomValues(trx, fields, before.custom, patch.custom, { creating: false });
          const updated = (await repo.updateCompany(db, id, { ...changes, ...(custom ? { custom: JSON.stringify(custom) } : {}), updatedBy: ctx.actor.accountId, updatedAt: now }))!;
          const changed = { ...diff(before, changes), ...(custom ? diffCustom(presentCustom(fields, before.custom), presentCustom(fields, custom)) : {}) };
          if (Object.keys(changed).length > 0) await recordChange(trx, { recordType: 'company', recordId: id, action: 'updated', changes: changed, by: ctx.actor.accountId, at: now });
          await deps.events.publish(trx, ctx, 'crm.company.updated', { id, changes: changedFields(before, updated) });
          await auditCrm(trx, ctx, { type: 'company', action: 'updated', id, before, after: updated });
          return present(fields, updated);
        });
      } catch (error) {
        return domainTaken(error, domain);
      }
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await ctx.db.transaction().execute(async (trx) => {
        const now = new Date();
        const deleted = await repo.setCompanyDeleted(companiesDb(trx), scope(ctx, 'delete'), id, true, ctx.actor.accountId, now);
        if (!deleted) throw new AppError('not_found', 'No such company');
        await recordChange(trx, { recordType: 'company', recordId: id, action: 'deleted', by: ctx.actor.accountId, at: now });
        await deps.events.publish(trx, ctx, 'crm.company.deleted', { id });
        await auditCrm(trx, ctx, { type: 'company', action: 'deleted', id, before: { deletedAt: null }, after: { deletedAt: now } });
      });
    },

    /** Brings a soft-deleted company back; refused while a live company holds its domain. */
    async restore(ctx: RequestContext, id: string): Promise<CompanyView> {
      try {
        const fields = await customFieldsOf(ctx.db);
        return await ctx.db.transaction().execute(async (trx) => {
          const now = new Date();
          const restored = await repo.setCompanyDeleted(companiesDb(trx), scope(ctx, 'delete'), id, false, ctx.actor.accountId, now);
          if (!restored) throw new AppError('not_found', 'No deleted company with this id');
          await recordChange(trx, { recordType: 'company', recordId: id, action: 'restored', by: ctx.actor.accountId, at: now });
          await deps.events.publish(trx, ctx, 'crm.company.restored', { id });
          await auditCrm(trx, ctx, { type: 'company', action: 'restored', id, before: { deletedAt: 'set' }, after: { deletedAt: null } });
          return present(fields, restored);
        });
      } catch (error) {
        if (error instanceof AppError) throw error;
        return domainTaken(error, undefined);
      }
    },
  };
}
