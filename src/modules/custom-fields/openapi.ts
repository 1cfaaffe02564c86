// The tenant's CRM objects with their custom fields, as an OpenAPI 3.1
// document: the platform's /openapi.json is the same for every tenant, so
// the shape of `custom` (which differs per tenant) is described here,
// extending the shared Company and Deal schemas. Client generators and
// validators can load both.
import type { CustomField, CustomObject } from './tables.ts';

const SCHEMA_NAME: Record<CustomObject, string> = { company: 'Company', deal: 'Deal' };

/** JSON Schema of one field's value (as the API reads and writes it, by key). */
export function valueSchema(f: CustomField): Record<string, unknown> {
  const meta = { title: f.label, 'x-plinth-field-id': f.id };
  switch (f.type) {
    case 'text':
      return { ...meta, type: 'string', maxLength: 10_000 };
    case 'number':
      return { ...meta, type: 'number' };
    case 'boolean':
      return { ...meta, type: 'boolean' };
    case 'date':
      return { ...meta, type: 'string', format: 'date' };
    case 'select':
      return { ...meta, type: 'string', enum: f.options };
    case 'multi_select':
      return { ...meta, type: 'array', items: { type: 'string', enum: f.options }, uniqueItems: true };
    case 'currency':
      return { ...meta, type: 'string', pattern: '^-?\\d{1,16}(\\.\\d{1,2})?$', description: `Amount in ${f.currency ?? ''} as a decimal string` };
    case 'relation':
      return { ...meta, type: 'string', format: 'uuid', description: `Id of a ${f.target ?? 'record'}` };
  }
}

export function customFieldsOpenApi(tenant: { slug: string; displayName: string }, fields: readonly CustomField[]) {
  const schemas: Record<string, unknown> = {};
  for (const object of ['company', 'deal'] as const) {
    const own = fields.filter((f) => f.object === object);
    const custom = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(own.map((f) => [f.key, valueSchema(f)])),
      ...(own.some((f) => f.required) ? { required: own.filter((f) => f.required).map((f) => f.key) } : {}),
    };
    schemas[`${SCHEMA_NAME[object]}Custom`] = custom;
    schemas[SCHEMA_NAME[object]] = { allOf: [{ $ref: `/openapi.json#/components/schemas/${SCHEMA_NAME[object]}` }, { type: 'object', properties: { custom: { $ref: `#/components/schemas/${SCHEMA_NAME[object]}Custom` } } }] };
  }
  return {
    openapi: '3.1.0',
    info: { title: `${tenant.displayName}: CRM objects with custom fields`, version: tenant.slug, description: 'Extends the shared schemas of /openapi.json with this tenant’s custom fields (`custom`, by key). Regenerate after changing fields.' },
    paths: {},
    components: { schemas },
  };
}
