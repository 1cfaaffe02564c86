// The list query language of CRM objects: filters and sorts over standard
// and custom fields, in query strings.
//   filter=amount:gte:1000   filter=custom.tier:in:gold,silver   filter=closeDate:empty
//   sort=-custom.score,name
// A filter is `<field>:<op>[:<value>]`; `in` takes comma-separated values.
import { sql, type RawBuilder } from 'kysely';
import { AppError } from '../../platform/errors.ts';
import type { CustomField } from '../custom-fields/tables.ts';
import type { Cast, SortableField } from './keyset.ts';

/** Query-string schema pieces every CRM list shares. */
export const SORT_PATTERN = '^[-+]?[A-Za-z][A-Za-z0-9_.]*(,[-+]?[A-Za-z][A-Za-z0-9_.]*){0,3}$';

export type FieldKind = 'text' | 'number' | 'date' | 'timestamp' | 'boolean' | 'uuid' | 'multi';

export interface ListField {
  expr: RawBuilder<unknown>;
  kind: FieldKind;
  /** Sort key when it differs from coalesce(expr, sentinel), e.g. lower(name). */
  sort?: SortableField;
  /** For custom fields: a JSONB containment probe, so eq/in/contains use the GIN index. */
  probe?: (value: unknown) => RawBuilder<boolean>;
}

export const FILTER_OPS = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'contains', 'empty', 'not_empty'] as const;
type Op = (typeof FILTER_OPS)[number];

const CAST: Record<FieldKind, Cast | 'uuid' | 'jsonb'> = { text: 'text', number: 'numeric', date: 'date', timestamp: 'timestamptz', boolean: 'boolean', uuid: 'uuid', multi: 'jsonb' };
const SENTINEL: Record<Exclude<FieldKind, 'multi'>, RawBuilder<unknown>> = {
  text: sql`''`,
  uuid: sql`''`,
  number: sql`'-Infinity'::numeric`,
  date: sql`'-infinity'::date`,
  timestamp: sql`'-infinity'::timestamptz`,
  boolean: sql`false`,
};
const OPS_OF: Record<FieldKind, readonly Op[]> = {
  text: ['eq', 'neq', 'in', 'contains', 'empty', 'not_empty', 'gt', 'gte', 'lt', 'lte'],
  uuid: ['eq', 'neq', 'in', 'empty', 'not_empty'],
  number: ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  date: ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  timestamp: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
  boolean: ['eq', 'neq', 'empty', 'not_empty'],
  multi: ['contains', 'empty', 'not_empty'],
};
const VALUE_RE: Partial<Record<FieldKind, RegExp>> = {
  number: /^-?\d{1,20}(\.\d{1,10})?$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  boolean: /^(true|false)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/** How a custom field appears in lists: key `custom.<key>`. */
export function customListField(f: CustomField): ListField {
  const raw = sql`custom->>${sql.lit(f.id)}`;
  const probe = (value: unknown) => sql<boolean>`custom @> ${JSON.stringify({ [f.id]: value })}::jsonb`;
  switch (f.type) {
    case 'number':
      return { expr: sql`(${raw})::numeric`, kind: 'number', probe: (v) => probe(Number(v)) };
    case 'currency':
      return { expr: sql`(${raw})::numeric`, kind: 'number' };
    case 'date':
      return { expr: sql`(${raw})::date`, kind: 'date', probe };
    case 'boolean':
      return { expr: sql`(${raw})::boolean`, kind: 'boolean', probe: (v) => probe(v === 'true') };
    case 'relation':
      return { expr: raw, kind: 'uuid', probe: (v) => probe(String(v).toLowerCase()) };
    case 'multi_select':
      return { expr: sql`custom->${sql.lit(f.id)}`, kind: 'multi', probe: (v) => probe(v) };
    default:
      return { expr: raw, kind: 'text', probe };
  }
}

export type FieldResolver = (name: string) => ListField | undefined;

export function resolverFor(standard: Record<string, ListField>, custom: readonly CustomField[]): FieldResolver {
  const byKey = new Map(custom.map((f) => [`custom.${f.key}`, f]));
  return (name) => (Object.hasOwn(standard, name) ? standard[name] : byKey.has(name) ? customListField(byKey.get(name)!) : undefined);
}

/** The sortable form of a field (NULLs coalesced so keyset pagination sees a total order). */
export function sortableField(f: ListField | undefined): SortableField | undefined {
  if (!f || f.kind === 'multi') return undefined;
  return f.sort ?? { expr: sql`coalesce(${f.expr}, ${SENTINEL[f.kind]})`, cast: f.kind === 'uuid' ? 'text' : (CAST[f.kind] as Cast) };
}

const isCalendarDate = (v: string) => {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};

function badFilter(index: number, detail: string): AppError {
  return new AppError('validation_failed', `filter ${index + 1}: ${detail}`, { errors: [{ in: 'query', pointer: `/filter/${index}`, detail }] });
}

function checkValue(kind: FieldKind, value: string, index: number): void {
  const re = VALUE_RE[kind];
  if (re && !re.test(value)) throw badFilter(index, `"${value}" is not a valid ${kind}`);
  if (kind === 'date' && !isCalendarDate(value)) throw badFilter(index, `"${value}" is not a calendar date`);
  if (kind === 'timestamp' && Number.isNaN(Date.parse(value))) throw badFilter(index, `"${value}" is not a date-time`);
  if (value.length > 200) throw badFilter(index, 'value too long');
}

/** Parses `field:op[:value]` strings into SQL conditions (400 with a pointer on the first bad one). */
export function parseFilters(filters: readonly string[] | undefined, resolve: FieldResolver): RawBuilder<boolean>[] {
  return (filters ?? []).map((text, index) => {
    const [name = '', op = '', ...rest] = text.split(':');
    const raw = rest.join(':');
    const field = resolve(name);
    if (!field) throw badFilter(index, `no field "${name}" to filter on`);
    if (!(FILTER_OPS as readonly string[]).includes(op)) throw badFilter(index, `unknown operator "${op}" (one of ${FILTER_OPS.join(', ')})`);
    if (!OPS_OF[field.kind].includes(op as Op)) throw badFilter(index, `operator ${op} does not apply to ${name}`);
    const cast = sql.raw(CAST[field.kind]);
    const e = field.expr;
    if (op === 'empty') return field.kind === 'text' ? sql<boolean>`coalesce(${e}, '') = ''` : sql<boolean>`${e} is null`;
    if (op === 'not_empty') return field.kind === 'text' ? sql<boolean>`coalesce(${e}, '') <> ''` : sql<boolean>`${e} is not null`;
    if (raw === '') throw badFilter(index, `operator ${op} needs a value`);
    const values = op === 'in' || (op === 'contains' && field.kind === 'multi') ? raw.split(',') : [raw];
    if (values.length > 100) throw badFilter(index, 'at most 100 values');
    if (field.kind !== 'multi') for (const v of values) checkValue(field.kind, v, index);
    const lit = (v: string) => sql`cast(${v} as ${cast})`;
    switch (op as Op) {
      case 'eq':
        return field.probe ? field.probe(values[0]) : sql<boolean>`${e} = ${lit(values[0]!)}`;
      case 'neq':
        return sql<boolean>`${e} is distinct from ${lit(values[0]!)}`;
      case 'in':
        return field.probe ? sql<boolean>`(${sql.join(values.map((v) => field.probe!(v)), sql` or `)})` : sql<boolean>`${e} in (${sql.join(values.map(lit))})`;
      case 'contains':
        return field.kind === 'multi' ? field.probe!(values) : sql<boolean>`${e} ilike ${`%${values[0]!.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`;
      default: {
        const cmp = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op as 'gt' | 'gte' | 'lt' | 'lte'];
        return sql<boolean>`${e} ${sql.raw(cmp)} ${lit(values[0]!)}`;
      }
    }
  });
}

/** Words of a search text as a prefix tsquery ("acm cor" → 'acm':* & 'cor':*), or null when none. */
export function prefixTsQuery(text: string): string | null {
  const words = text.toLowerCase().match(/[\p{L}\p{N}@.\-_]+/gu)?.slice(0, 8) ?? [];
  const terms = words.map((w) => w.replace(/^[.\-_@]+|[.\-_@]+$/g, '')).filter(Boolean);
  return terms.length === 0 ? null : terms.map((w) => `'${w.replace(/'/g, "''")}':*`).join(' & ');
}
