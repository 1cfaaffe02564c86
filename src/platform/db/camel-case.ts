// Kysely's CamelCasePlugin with a faster result mapping. Every row of every
// query goes through `mapRow`; Kysely's builds each row with Object.keys +
// reduce, adding properties one by one to an empty object (which V8 grows
// and reshapes as it goes). The rows of one result share their columns, so
// this version builds, per list of columns, one small function returning an
// object literal of the camelCased names: one allocation per row, a stable
// shape. Same output: nested plain objects and arrays (jsonb) are mapped
// recursively exactly as Kysely does (same `isPlainObject` test).
// Measured on the reference read (51 rows): bench/README.md, "Profiling".
import { CamelCasePlugin, type CamelCasePluginOptions, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from 'kysely';

type Row = Record<string, unknown>;
type RowMapper = (row: Row, deep: (value: unknown) => unknown) => Row;

/** Kysely's isPlainObject (kysely/dist/esm/util/object-utils.js): what its CamelCasePlugin maps recursively. */
function isPlainObject(value: unknown): value is Row {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null) return true;
  let root: object = value;
  while (Object.getPrototypeOf(root) !== null) root = Object.getPrototypeOf(root) as object;
  return proto === root;
}

/** Whether `row`'s enumerable keys are exactly `keys`, in order. */
function hasKeys(row: Row, keys: string[]): boolean {
  let i = 0;
  for (const k in row) if (k !== keys[i++]) return false;
  return i === keys.length;
}

export class FastCamelCasePlugin extends CamelCasePlugin {
  readonly #mappers = new Map<string, RowMapper>();
  readonly #deep: (value: unknown) => unknown;

  constructor(opt: CamelCasePluginOptions = {}) {
    super(opt);
    const nested = !opt.maintainNestedObjectKeys;
    this.#deep = (value) => {
      if (typeof value !== 'object' || value === null || value instanceof Date) return value;
      // An array without objects (text[], uuid[]) is kept: a copy would hold the same items.
      if (Array.isArray(value)) return nested && value.some(isPlainObject) ? value.map((item) => (isPlainObject(item) ? this.mapRow(item) : item)) : value;
      return nested && isPlainObject(value) ? this.mapRow(value) : value;
    };
  }

  // The rows of one result share their columns (one statement's fields): the
  // mapper is looked up once per result, and each row only checked against
  // its columns (for-in allocates nothing, Object.keys an array per row).
  override async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const { rows } = args.result;
    if (!Array.isArray(rows) || rows.length === 0) return args.result;
    const keys = Object.keys(rows[0]!);
    const mapper = this.#mapperFor(keys);
    const deep = this.#deep;
    const mapped = new Array<UnknownRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      mapped[i] = hasKeys(row, keys) ? mapper(row, deep) : this.mapRow(row);
    }
    return { ...args.result, rows: mapped };
  }

  // The last column list and its mapper (nested objects): consecutive objects often share them.
  #lastKeys: string[] = [];
  #lastMapper: RowMapper | undefined;

  protected override mapRow(row: Row): Row {
    const keys = Object.keys(row);
    const last = this.#lastKeys;
    let mapper = this.#lastMapper;
    if (!mapper || keys.length !== last.length || keys.some((k, i) => k !== last[i])) {
      mapper = this.#mapperFor(keys);
      this.#lastKeys = keys;
      this.#lastMapper = mapper;
    }
    return mapper(row, this.#deep);
  }

  #mapperFor(keys: string[]): RowMapper {
    // A NUL cannot occur in a column name.
    const signature = keys.join('\0');
    let mapper = this.#mappers.get(signature);
    if (!mapper) {
      // Names go in as JSON string literals: no column name can break out of the generated code.
      const body = keys.map((k) => `${JSON.stringify(this.camelCase(k))}: deep(row[${JSON.stringify(k)}])`).join(',\n');
      // Generated once per column list (names escaped above), as fast-json-stringify and Ajv do.
      mapper = new Function('row', 'deep', `return {\n${body}\n};`) as RowMapper;
      // Nested jsonb objects have unbounded key sets: the cache must not grow forever.
      if (this.#mappers.size < 1000) this.#mappers.set(signature, mapper);
    }
    return mapper;
  }
}
