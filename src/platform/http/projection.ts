// Response serialisation by projection. For the response schemas it can
// express (objects with declared properties, arrays, scalars, type lists of
// scalars, refs to shared schemas), a function generated from the schema
// copies what the schema declares into plain objects and arrays (a Date in a
// string field becomes its ISO text), and V8's JSON.stringify writes the text.
//
// Why not fast-json-stringify alone: it builds the JSON from thousands of
// small concatenated strings, and on a page of 50 contacts that leaves
// 124 KiB of garbage against 36 KiB here, for the same CPU (bench/README.md,
// "Profiling"); under load the difference is paid again in scavenges.
// No library projects by schema into JSON.stringify, hence this file.
//
// The text is fast-json-stringify's, byte for byte, for everything this
// compiles: the same property order (required properties first), the same
// coercions (null in a string field → "", Date → ISO text, RegExp → its
// source, integers truncated, non-finite numbers → null), the same errors
// (a missing required property, a non-array for an array, a value that fits
// none of a type list). Anything else (anyOf/oneOf/allOf, const, nullable,
// if/then, additional or pattern properties, tuples, date/time formats,
// recursive refs) makes `compileProjection` return null, and the caller
// keeps fast-json-stringify for that schema. serializer.test.ts compares
// both on the same inputs.

type Schema = Record<string, unknown>;
export type Projection = (value: unknown) => unknown;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

// fast-json-stringify's inferTypeByKeyword: a schema without `type` takes the type its keywords imply.
const INFERRED: Array<[string, string[]]> = [
  ['object', ['properties', 'required', 'additionalProperties', 'patternProperties', 'maxProperties', 'minProperties', 'dependencies']],
  ['array', ['items', 'additionalItems', 'maxItems', 'minItems', 'uniqueItems', 'contains']],
  ['string', ['maxLength', 'minLength', 'pattern']],
  ['number', ['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum']],
];
const typeOf = (s: Schema): unknown => (s.type !== undefined ? s.type : INFERRED.find(([, keys]) => keys.some((k) => k in s))?.[0]);

// Keywords that change what fast-json-stringify writes, which this does not reproduce.
const UNSUPPORTED = ['allOf', 'anyOf', 'oneOf', 'const', 'nullable', 'patternProperties', 'prefixItems'];
const SPECIAL_FORMATS = new Set(['date-time', 'date', 'time', 'unsafe']);
// Integer-like keys come first in a JS object whatever the literal's order; `__proto__` sets the prototype.
const UNSAFE_KEY = /^(?:\d+|__proto__)$/;

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

// Text JSON.stringify writes as it is (Node 21+; not yet in TypeScript's lib).
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

// Date.prototype.toISOString costs ~420 ns here, and a page of 50 contacts
// has 100 timestamps. Most share their day with the previous one: the day's
// "YYYY-MM-DDT" is kept as character codes and the whole text made by one
// String.fromCharCode (one flat 24-byte string; a template of the pieces
// made a chain of ~8 cons strings that JSON.stringify then flattened, ~260
// bytes of garbage a timestamp, ~25 KiB a page). Same text; outside years
// 1970-9999, and for an invalid Date (which throws), toISOString itself.
const DAY_MS = 86_400_000;
const YEAR_10000_MS = 253_402_300_800_000;
const ZERO = 48;
let lastDay = NaN;
const prefix = new Array<number>(11).fill(0);
export function isoString(date: Date): string {
  const ms = date.getTime();
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    if (!(ms >= 0 && ms < YEAR_10000_MS)) return date.toISOString();
    const text = date.toISOString();
    for (let i = 0; i < 11; i++) prefix[i] = text.charCodeAt(i);
    lastDay = day;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const f = rest - s * 1000;
  const p = prefix;
  return String.fromCharCode(
    p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, p[8]!, p[9]!, p[10]!,
    ZERO + Math.floor(h / 10), ZERO + (h % 10), 58, ZERO + Math.floor(m / 10), ZERO + (m % 10), 58, ZERO + Math.floor(s / 10), ZERO + (s % 10), 46,
    ZERO + Math.floor(f / 100), ZERO + (Math.floor(f / 10) % 10), ZERO + (f % 10), 90,
  );
}

// The coercions of fast-json-stringify's serializer (lib/serializer.js, index.js).
const str = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (v instanceof Date) return isoString(v);
  if (v instanceof RegExp) return v.source;
  return String((v as { toString(): unknown }).toString());
};
const int = (v: unknown): unknown => {
  if (Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return rawJSON(v.toString());
  const n = Math.trunc(v as number);
  if (!Number.isFinite(n)) throw new Error(`The value "${String(v)}" cannot be converted to an integer.`);
  return n;
};
const num = (v: unknown): number => {
  const n = Number(v);
  if (n !== n) throw new Error(`The value "${String(v)}" cannot be converted to a number.`);
  return n;
};
const mismatch = (path: string): never => {
  throw new TypeError(`The value of '${path}' does not match schema definition.`);
};
const EMPTY_OBJECT = Object.freeze({});
const EMPTY_ARRAY = Object.freeze([]);

/**
 * The projection for `root` (a response schema, after forSerialization), with
 * `shared` the schemas a `$ref` may name by `$id`; null when the schema uses
 * something this does not reproduce exactly.
 */
export function compileProjection(root: unknown, shared: Record<string, unknown>): Projection | null {
  const functions: string[] = [];
  const constants: unknown[] = [];
  const named = new Map<Schema, string>();
  const building = new Set<Schema>();
  let count = 0;

  const resolve = (schema: unknown): unknown => {
    let s = schema;
    for (let hops = 0; isSchema(s) && typeof s.$ref === 'string'; hops++) {
      const ref = s.$ref;
      const hash = ref.indexOf('#');
      // Only whole shared schemas ("Contact", "Contact#"), not pointers into one.
      if (hops > 20 || (hash !== -1 && hash !== ref.length - 1)) unsupported();
      s = shared[hash === -1 ? ref : ref.slice(0, hash)] ?? unsupported();
    }
    return s;
  };

  const constant = (value: unknown) => `C[${constants.push(value) - 1}]`;

  /** A JS expression giving the projection of the variable `v` (a plain identifier) under `schema`. */
  const expression = (schema: unknown, v: string, path: string): string => {
    if (typeof schema === 'boolean') return v;
    const s = resolve(schema);
    if (!isSchema(s) || UNSUPPORTED.some((k) => k in s) || ('if' in s && ('then' in s || 'else' in s))) return unsupported();
    const type = typeOf(s);
    return Array.isArray(type) ? typeList(s, type, v, path) : single(s, type, v, path);
  };

  const single = (s: Schema, type: unknown, v: string, path: string): string => {
    switch (type) {
      case undefined:
        return v;
      case 'null':
        return 'null';
      case 'string':
        return typeof s.format === 'string' && SPECIAL_FORMATS.has(s.format) ? unsupported() : `str(${v})`;
      case 'integer':
        return `int(${v})`;
      case 'number':
        return `num(${v})`;
      case 'boolean':
        return `(${v} ? true : false)`;
      case 'object':
        return `${objectFunction(s, path)}(${v})`;
      case 'array':
        return `${arrayFunction(s, path)}(${v})`;
      default:
        return unsupported();
    }
  };

  // fast-json-stringify's buildMultiTypeSerializer: the first type whose test the value passes (the same sort, so the same order).
  const typeList = (s: Schema, types: unknown[], v: string, path: string): string => {
    const sorted = [...types].sort((t1) => (t1 === 'null' ? -1 : 1));
    let out = `mismatch(${JSON.stringify(path)})`;
    for (const t of sorted.reverse()) {
      const test =
        t === 'null'
          ? `${v} === null`
          : t === 'string'
            ? `(typeof ${v} === "string" || ${v} === null || ${v} instanceof Date || ${v} instanceof RegExp || (typeof ${v} === "object" && typeof ${v}.toString === "function" && ${v}.toString !== Object.prototype.toString))`
            : t === 'integer'
              ? `(Number.isInteger(${v}) || ${v} === null)`
              : t === 'number' || t === 'boolean'
                ? `(typeof ${v} === ${JSON.stringify(t)} || ${v} === null)`
                : unsupported();
      out = `(${test} ? ${single({ ...s, type: t }, t, v, path)} : ${out})`;
    }
    return out;
  };

  const define = (s: Schema, prefix: string, body: (name: string) => string): string => {
    const known = named.get(s);
    if (known) return known;
    if (building.has(s)) return unsupported(); // a recursive schema
    building.add(s);
    const name = `${prefix}${count++}`;
    const code = body(name);
    building.delete(s);
    named.set(s, name);
    functions.push(code);
    return name;
  };

  const objectFunction = (s: Schema, path: string) =>
    define(s, 'o', (name) => {
      if (s.additionalProperties !== undefined && s.additionalProperties !== false) unsupported();
      const properties = isSchema(s.properties) ? s.properties : {};
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      const keys = Object.keys(properties).sort((a, b) => {
        const ra = required.includes(a);
        return ra === required.includes(b) ? 0 : ra ? -1 : 1;
      });
      if (keys.some((k) => UNSAFE_KEY.test(k))) unsupported();
      const missing = (k: string) => `throw new Error(${JSON.stringify(`${JSON.stringify(k)} is required!`)})`;
      let body = `function ${name}(input) {\n  const o = input && typeof input.toJSON === 'function' ? input.toJSON() : input;\n  if (o === null) return EMPTY_OBJECT;\n`;
      for (const k of required) if (!keys.includes(k)) body += `  if (o[${JSON.stringify(k)}] === undefined) ${missing(k)};\n`;
      keys.forEach((k, i) => {
        const v = `v${i}`;
        const propertyPath = `${path}/properties/${k}`;
        const resolved = resolve(properties[k]);
        const fallback = isSchema(resolved) && resolved.default !== undefined ? constant(resolved.default) : undefined;
        body += `  const ${v} = o[${JSON.stringify(k)}];\n`;
        if (fallback) body += `  const p${i} = ${v} === undefined ? ${fallback} : ${expression(properties[k], v, propertyPath)};\n`;
        else if (required.includes(k)) body += `  if (${v} === undefined) ${missing(k)};\n  const p${i} = ${expression(properties[k], v, propertyPath)};\n`;
        else body += `  const p${i} = ${v} === undefined ? undefined : ${expression(properties[k], v, propertyPath)};\n`;
      });
      return `${body}  return {${keys.map((k, i) => `${JSON.stringify(k)}: p${i}`).join(', ')}};\n}`;
    });

  const arrayFunction = (s: Schema, path: string) =>
    define(s, 'a', (name) => {
      if (Array.isArray(s.items)) unsupported(); // tuples
      const item = expression(s.items ?? {}, 'v', `${path}/items`);
      let body = `function ${name}(arr) {\n  if (arr === null) return EMPTY_ARRAY;\n  if (!Array.isArray(arr)) mismatch(${JSON.stringify(path)});\n  const n = arr.length;\n`;
      // Strings project to themselves: an array of strings is written as it is (fast-json-stringify's asPlainStringArray).
      if (item === 'str(v)') body += `  let plain = true;\n  for (let i = 0; i < n && plain; i++) plain = typeof arr[i] === 'string';\n  if (plain) return arr;\n`;
      return `${body}  const out = [];\n  for (let i = 0; i < n; i++) {\n    const v = arr[i];\n    out.push(${item});\n  }\n  return out;\n}`;
    });

  try {
    const main = expression(root, 'value', '#');
    // Generated from schemas, never from request data; keys and paths go in as JSON literals.
    const factory = new Function('str', 'int', 'num', 'mismatch', 'EMPTY_OBJECT', 'EMPTY_ARRAY', 'C', `${functions.join('\n')}\nreturn function project(value) { return ${main}; };`);
    return factory(str, int, num, mismatch, EMPTY_OBJECT, EMPTY_ARRAY, constants) as Projection;
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}
