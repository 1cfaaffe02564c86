// Custom field values: validated against the tenant's field definitions on
// write, stored by field id, presented by field key on read.
import { sql, type Kysely } from 'kysely';
import { AppError, type FieldError } from '../../platform/errors.ts';
import type { CustomField, StoredValues } from './tables.ts';

export const DECIMAL = /^-?\d{1,16}(\.\d{1,2})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABLE_OF = { company: 'companies', contact: 'contacts', deal: 'deals' } as const;

export const isCalendarDate = (v: string) => {
  const d = new Date(`${v}T00:00:00Z`);
  return DATE.test(v) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};

/** The stored form of one value, or an error message. */
function coerce(field: CustomField, value: unknown): { ok: true; value: unknown } | { ok: false; detail: string } {
  switch (field.type) {
    case 'text':
      return typeof value === 'string' && value.length <= 10_000 ? { ok: true, value: value.trim() } : { ok: false, detail: 'expected text (at most 10000 characters)' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? { ok: true, value } : { ok: false, detail: 'expected a number' };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, detail: 'expected true or false' };
    case 'date':
      return typeof value === 'string' && isCalendarDate(value) ? { ok: true, value } : { ok: false, detail: 'expected a date YYYY-MM-DD' };
    case 'currency':
      return typeof value === 'string' && DECIMAL.test(value) ? { ok: true, value } : { ok: false, detail: `expected a decimal string amount in ${field.currency}, e.g. "1250.00"` };
    case 'select':
      return typeof value === 'string' && field.options.includes(value) ? { ok: true, value } : { ok: false, detail: `expected one of ${field.options.join(', ')}` };
    case 'multi_select':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && field.options.includes(v))
        ? { ok: true, value: field.options.filter((o) => value.includes(o)) }
        : { ok: false, detail: `expected a list of ${field.options.join(', ')}` };
    case 'relation':
      return typeof value === 'string' && UUID.test(value) ? { ok: true, value: value.toLowerCase() } : { ok: false, detail: `expected the id of a ${field.target}` };
  }
}

/**
 * Validates `input` (field key → value; null clears) against `fields` and
 * returns the stored values after applying it to `before`. Unknown keys,
 * wrong types and missing required fields are 400; relations to records
 * that do not exist in the tenant are 422.
 */
export async function applyCustomValues(db: Kysely<any>, fields: readonly CustomField[], before: StoredValues, input: Record<string, unknown> | undefined, opts: { creating: boolean }): Promise<StoredValues> {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const out: StoredValues = { ...before };
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(input ?? {})) {
    const field = byKey.get(key);
    if (!field) {
      errors.push({ in: 'body', pointer: `/custom/${key}`, detail: 'no such custom field' });
      continue;
    }
    if (value === null || (field.type === 'multi_select' && Array.isArray(value) && value.length === 0)) {
      delete out[field.id];
      continue;
    }
    const r = coerce(field, value);
    if (r.ok) out[field.id] = r.value;
    else errors.push({ in: 'body', pointer: `/custom/${key}`, detail: r.detail });
  }
  for (const f of fields) {
    if (f.required && (opts.creating || (input && f.key in input)) && out[f.id] === undefined) errors.push({ in: 'body', pointer: `/custom/${f.key}`, detail: 'required' });
  }
  if (errors.length > 0) throw new AppError('validation_failed', 'Some custom field values are not valid', { errors });
  for (const f of fields) {
    if (f.type !== 'relation' || !input || !(f.key in input) || out[f.id] === undefined) continue;
    const found = await db.selectFrom(TABLE_OF[f.target!]).select('id').where('id', '=', out[f.id] as string).where('deletedAt', 'is', null).executeTakeFirst();
    if (!found) throw new AppError('invalid_reference', `No such ${f.target} in this tenant`, { errors: [{ in: 'body', pointer: `/custom/${f.key}`, detail: `unknown ${f.target}` }] });
  }
  return out;
}

/** Stored values (by id) as the API shows them (by key), live fields only. */
export function presentCustom(fields: readonly CustomField[], stored: StoredValues | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (stored && stored[f.id] !== undefined) out[f.key] = stored[f.id];
  return out;
}

/** JSON for a jsonb parameter. */
export const jsonb = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;
