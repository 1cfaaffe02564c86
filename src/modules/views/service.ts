// Saved views: a user's named filter + sort + search + columns for a list.
// Views are personal: another user's view is a 404 like a missing one.
// Filters and sort are checked against the object's fields when saved, so a
// view that cannot run is refused up front.
import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { fieldsOf } from '../custom-fields/repository.ts';
import type { CustomFieldsTables } from '../custom-fields/tables.ts';
import { FIELDS as COMPANY_FIELDS } from '../companies/repository.ts';
import { DEAL_FIELDS } from '../deals/repository.ts';
import { parseSort } from './keyset.ts';
import { parseFilters, resolverFor, sortableField } from './filters.ts';
import type { SavedView, ViewsTables } from './tables.ts';
import { auditCrm } from '../companies/write-log.ts';

export interface ViewInput {
  object: 'company' | 'deal';
  name: string;
  filters?: string[];
  sort?: string | null;
  search?: string | null;
  columns?: string[];
}

const viewsDb = (ctx: RequestContext) => ctx.db.withTables<ViewsTables>();

async function check(ctx: RequestContext, object: 'company' | 'deal', filters: string[] | undefined, sort: string | null | undefined): Promise<void> {
  const custom = await fieldsOf(ctx.db.withTables<CustomFieldsTables>(), object);
  const resolve = resolverFor(object === 'company' ? COMPANY_FIELDS : DEAL_FIELDS, custom);
  const relocate = (e: unknown, pointer: (p: string) => string) => {
    if (e instanceof AppError && e.errors) throw new AppError(e.code, e.detail, { errors: e.errors.map((x) => ({ ...x, in: 'body', pointer: pointer(x.pointer) })) });
    throw e;
  };
  try {
    parseFilters(filters, resolve);
  } catch (e) {
    relocate(e, (p) => p.replace('/filter/', '/filters/'));
  }
  if (sort) {
    try {
      parseSort(sort, (name) => sortableField(resolve(name)));
    } catch (e) {
      relocate(e, () => '/sort');
    }
  }
}

export function createViewsService() {
  const get = async (ctx: RequestContext, id: string): Promise<SavedView> => {
    const v = await viewsDb(ctx).selectFrom('savedViews').selectAll().where('id', '=', id).where('accountId', '=', ctx.actor.accountId).executeTakeFirst();
    if (!v) throw new AppError('not_found', 'No such view');
    return v;
  };
  return {
    get,

    list: async (ctx: RequestContext, query: { object?: 'company' | 'deal' }) => ({
      data: await viewsDb(ctx)
        .selectFrom('savedViews')
        .selectAll()
        .where('accountId', '=', ctx.actor.accountId)
        .$if(query.object !== undefined, (q) => q.where('object', '=', query.object!))
        .orderBy('name')
        .orderBy('id')
        .execute(),
    }),

    async create(ctx: RequestContext, input: ViewInput): Promise<SavedView> {
      await check(ctx, input.object, input.filters, input.sort);
      const now = new Date();
      return ctx.db.transaction().execute(async (trx) => {
        const created = await trx
        .withTables<ViewsTables>()
        .insertInto('savedViews')
        .values({
          id: uuidv7(),
          accountId: ctx.actor.accountId,
          object: input.object,
          name: input.name.trim(),
          filters: JSON.stringify(input.filters ?? []),
          sort: input.sort ?? null,
          search: input.search ?? null,
          columns: JSON.stringify(input.columns ?? []),
          createdAt: now,
          updatedAt: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
        await auditCrm(trx, ctx, { type: 'saved_view', action: 'created', id: created.id, before: null, after: created });
        return created;
      });
    },

    async update(ctx: RequestContext, id: string, patch: Partial<Omit<ViewInput, 'object'>>): Promise<SavedView> {
      const before = await get(ctx, id);
      await check(ctx, before.object, patch.filters, patch.sort);
      return ctx.db.transaction().execute(async (trx) => {
        const updated = await trx
        .withTables<ViewsTables>()
        .updateTable('savedViews')
        .set({
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.filters !== undefined ? { filters: JSON.stringify(patch.filters) } : {}),
          ...(patch.sort !== undefined ? { sort: patch.sort } : {}),
          ...(patch.search !== undefined ? { search: patch.search } : {}),
          ...(patch.columns !== undefined ? { columns: JSON.stringify(patch.columns) } : {}),
          updatedAt: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
        await auditCrm(trx, ctx, { type: 'saved_view', action: 'updated', id, before, after: updated });
        return updated;
      });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      const before = await get(ctx, id);
      await ctx.db.transaction().execute(async (trx) => {
        await trx.withTables<ViewsTables>().deleteFrom('savedViews').where('id', '=', id).execute();
        await auditCrm(trx, ctx, { type: 'saved_view', action: 'deleted', id, before, after: null });
      });
    },

    /** A list query with a saved view applied: the view's filters plus the query's; the query's sort and search win. */
    async applyView<Q extends { view?: string; filter?: string[]; sort?: string; search?: string }>(ctx: RequestContext, query: Q, object: 'company' | 'deal'): Promise<Q> {
      if (!query.view) return query;
      const v = await get(ctx, query.view).catch(() => null);
      if (!v || v.object !== object) throw new AppError('validation_failed', `No ${object} view with this id`, { errors: [{ in: 'query', pointer: '/view', detail: 'unknown view' }] });
      return { ...query, filter: [...v.filters, ...(query.filter ?? [])], sort: query.sort ?? v.sort ?? undefined, search: query.search ?? v.search ?? undefined };
    },
  };
}
