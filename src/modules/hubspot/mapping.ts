// Field mapping between Plinth records and HubSpot properties. Values are
// compared in one normal form (trimmed text, "" = null, lower-case email,
// normalised domain, amounts with two decimals, dates as YYYY-MM-DD), so a
// round trip through HubSpot never looks like a change.
import { normaliseDomain } from '../companies/domain.ts';
import type { FieldRule, FieldRules, ObjectType } from './tables.ts';

export type Values = Record<string, unknown>;

interface FieldMap {
  field: string;
  property: string;
  fromHub(v: string | null): unknown;
  toHub(v: unknown): string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const plain = (field: string, property: string): FieldMap => ({ field, property, fromHub: text, toHub: (v) => text(v) });

export const normalise = {
  text,
  email: (v: unknown) => text(v)?.toLowerCase() ?? null,
  domain: (v: unknown) => (text(v) ? normaliseDomain(text(v)!) : null),
  int: (v: unknown) => {
    const n = typeof v === 'number' ? v : Number(text(v) ?? NaN);
    return Number.isFinite(n) ? Math.trunc(n) : null;
  },
  amount: (v: unknown) => {
    const n = typeof v === 'number' ? v : Number(text(v) ?? NaN);
    return Number.isFinite(n) ? n.toFixed(2) : null;
  },
  currency: (v: unknown) => text(v)?.toUpperCase() ?? null,
  /** HubSpot dates come as ISO date-times or epoch milliseconds. */
  date: (v: unknown) => {
    const s = text(v);
    if (!s) return null;
    const d = /^\d+$/.test(s) ? new Date(Number(s)) : new Date(s);
    return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
  },
};

export const FIELD_MAPS: Record<ObjectType, FieldMap[]> = {
  company: [
    plain('name', 'name'),
    { field: 'domain', property: 'domain', fromHub: normalise.domain, toHub: (v) => text(v) },
    plain('industry', 'industry'),
    { field: 'employees', property: 'numberofemployees', fromHub: normalise.int, toHub: (v) => (v == null ? null : String(v)) },
    plain('address', 'address'),
  ],
  contact: [
    plain('firstName', 'firstname'),
    plain('lastName', 'lastname'),
    { field: 'email', property: 'email', fromHub: normalise.email, toHub: (v) => text(v) },
    plain('phone', 'phone'),
    plain('jobTitle', 'jobtitle'),
  ],
  deal: [
    plain('name', 'dealname'),
    { field: 'amount', property: 'amount', fromHub: normalise.amount, toHub: (v) => text(v) },
    { field: 'currency', property: 'deal_currency_code', fromHub: normalise.currency, toHub: (v) => text(v) },
    { field: 'closeDate', property: 'closedate', fromHub: normalise.date, toHub: (v) => (text(v) ? `${text(v)}T00:00:00.000Z` : null) },
  ],
};

/** Deal fields kept outside plain properties: the stage (pipeline + dealstage) and the associations. */
export const DEAL_LINK_FIELDS = ['stageId', 'companyId', 'contactIds'] as const;
/** Contact fields kept outside plain properties: the company (a v4 contact → company association). */
export const CONTACT_LINK_FIELDS = ['companyId'] as const;
const LINK_FIELDS: Record<ObjectType, readonly string[]> = { company: [], contact: CONTACT_LINK_FIELDS, deal: DEAL_LINK_FIELDS };

export const fieldsOf = (type: ObjectType): string[] => [...FIELD_MAPS[type].map((f) => f.field), ...LINK_FIELDS[type]];

/** The property that names the same record on both sides (batch upsert's idProperty). */
export const UNIQUE_PROPERTY: Record<ObjectType, string> = { company: 'domain', contact: 'email', deal: 'plinth_id' };
/** Contacts keep their modification time in `lastmodifieddate`, other objects in `hs_lastmodifieddate`. */
export const MODIFIED_PROPERTY: Record<ObjectType, string> = { company: 'hs_lastmodifieddate', contact: 'lastmodifieddate', deal: 'hs_lastmodifieddate' };

export const propertiesOf = (type: ObjectType): string[] => [
  ...FIELD_MAPS[type].map((f) => f.property),
  MODIFIED_PROPERTY[type],
  ...(type === 'deal' ? ['pipeline', 'dealstage', 'plinth_id'] : []),
];

export function fromHubSpot(type: ObjectType, props: Record<string, string | null | undefined>): Values {
  return Object.fromEntries(FIELD_MAPS[type].map((f) => [f.field, f.fromHub(props[f.property] ?? null)]));
}

export function toHubSpot(type: ObjectType, values: Values): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const f of FIELD_MAPS[type]) if (f.field in values) out[f.property] = f.toHub(values[f.field]);
  return out;
}

/**
 * Defaults where a rule is not configured: a field both sides changed becomes
 * a conflict, except a company's industry, a fixed list of values in HubSpot
 * that Plinth's free text would not fit: HubSpot owns it.
 */
const DEFAULT_RULES: FieldRules = { company: { industry: 'hubspot' } };

export const ruleFor = (rules: FieldRules, type: ObjectType, field: string): FieldRule => rules[type]?.[field] ?? DEFAULT_RULES[type]?.[field] ?? 'manual';

export function effectiveRules(rules: FieldRules): Record<ObjectType, Record<string, FieldRule>> {
  const out = {} as Record<ObjectType, Record<string, FieldRule>>;
  for (const type of ['company', 'contact', 'deal'] as const) out[type] = Object.fromEntries(fieldsOf(type).map((f) => [f, ruleFor(rules, type, f)]));
  return out;
}

export const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export type Decision = { take: 'agree' | 'hubspot' | 'plinth' | 'keep' | 'conflict' };

/**
 * Three-way decision for one field. `base` is the value both sides last agreed
 * on (undefined: never synced). A side "changed" when it differs from base.
 */
export function decide(rule: FieldRule, base: unknown, plinth: unknown, hub: unknown, plinthIsNewer: boolean): Decision {
  if (same(plinth, hub)) return { take: 'agree' };
  // HubSpot owns the field but has never had a value for this record: Plinth's is kept (and not pushed).
  if (rule === 'hubspot' && base === undefined && hub === null) return { take: 'keep' };
  if (rule === 'hubspot') return { take: 'hubspot' };
  if (rule === 'plinth') return { take: 'plinth' };
  const hubChanged = base === undefined || !same(hub, base);
  const plinthChanged = base === undefined || !same(plinth, base);
  if (hubChanged && !plinthChanged) return { take: 'hubspot' };
  if (plinthChanged && !hubChanged) return { take: 'plinth' };
  if (rule === 'newest') return { take: plinthIsNewer ? 'plinth' : 'hubspot' };
  return { take: 'conflict' };
}
