// Response serialisation: Fastify's fast-json-stringify compiler, given
// response schemas rewritten for speed. The route schemas themselves (and so
// validation and the OpenAPI document) are untouched; only the copy that
// fast-json-stringify compiles changes, and the JSON it writes stays the same:
//
// - `anyOf: [<scalar>, null]` (TypeBox's `Nullable`) becomes `type: [<scalar>, 'null']`:
//   for anyOf, fast-json-stringify runs an Ajv validation of each branch for
//   every nullable field of every row (a format regex for uuids) to pick one;
//   for a type list it checks `=== null`.
// - `format: 'date-time'` is dropped: its serialiser builds the ISO string from
//   fifteen concatenated pieces (garbage the GC then copies around under load),
//   while a plain string field writes a Date with `toISOString()`: the same text
//   for years 0-9999, and the formatter falls back to toISOString outside them.
//
// Schemas that projection.ts can express are then written by a generated
// projection and JSON.stringify instead (far less garbage, same text).
//
// Measured on the reference read (50 contacts): bench/README.md, "Profiling".
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { compileProjection } from './projection.ts';

type Schema = Record<string, unknown>;
const SCALARS = new Set(['string', 'number', 'integer', 'boolean']);
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNull = (s: unknown) => isSchema(s) && s.type === 'null' && Object.keys(s).every((k) => k === 'type' || k === 'description');
/** A scalar schema the type list can carry as is: no combinators, refs or enums of its own. */
const isPlainScalar = (s: unknown): s is Schema =>
  isSchema(s) && typeof s.type === 'string' && SCALARS.has(s.type) && !['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'enum', 'const', 'if', 'nullable'].some((k) => k in s);

/** A copy of `schema` in the shape fast-json-stringify serialises fastest (see above). */
export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization);
  if (!isSchema(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'const' || key === 'default' || key === 'examples' || key === 'enum' ? value : forSerialization(value);
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2 && !('type' in out)) {
    const [a, b] = anyOf;
    const [value, nul] = isNull(a) ? [b, a] : [a, b];
    if (isNull(nul) && isPlainScalar(value)) {
      const { anyOf: _, ...rest } = out;
      return { ...rest, ...value, type: [value.type, 'null'] };
    }
  }
  if (out.format === 'date-time' && (out.type === 'string' || (Array.isArray(out.type) && out.type.includes('string')))) delete out.format;
  return out;
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
export function buildSerializer(): SerializerFactory {
  const base = SerializerSelector();
  return (externalSchemas, options) => {
    const rewritten = Object.fromEntries(Object.entries((externalSchemas ?? {}) as Record<string, unknown>).map(([id, s]) => [id, forSerialization(s)]));
    const compile = base(rewritten, options);
    return (route) => {
      const schema = forSerialization(route.schema);
      // A projection and JSON.stringify where the schema allows it (projection.ts), else fast-json-stringify.
      const project = compileProjection(schema, rewritten);
      return project ? (data: unknown) => JSON.stringify(project(data)) : compile({ ...route, schema });
    };
  };
}
