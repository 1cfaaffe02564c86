import { describe, expect, it } from 'vitest';
import fastJson from 'fast-json-stringify';
import { compileProjection, isoString } from './projection.ts';

type Schema = Record<string, unknown>;

/** fast-json-stringify's text or error, and the projection's, for one input. */
function both(schema: Schema, shared: Record<string, Schema>, input: unknown) {
  const reference = fastJson(structuredClone(schema) as never, { schema: structuredClone(shared) as never });
  const project = compileProjection(schema, shared);
  if (!project) throw new Error('not compiled');
  const run = (f: () => string) => {
    try {
      return { text: f() };
    } catch (error) {
      return { error: (error as Error).constructor.name };
    }
  };
  return { expected: run(() => reference(input)), actual: run(() => JSON.stringify(project(input))) };
}

const Row: Schema = {
  $id: 'Row',
  type: 'object',
  required: ['id', 'name', 'at', 'tags', 'count'],
  properties: {
    note: { type: ['string', 'null'] },
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    count: { type: 'integer' },
    ratio: { type: ['number', 'null'] },
    flag: { type: 'boolean' },
    at: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    meta: {},
    kind: { type: 'string', default: 'person' },
    nested: { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'array', items: { type: 'object', properties: { z: { type: 'string' } } } } } },
    level: { type: ['integer', 'null'] },
    on: { type: ['boolean', 'null'] },
  },
};
const Page: Schema = { type: 'object', required: ['data'], properties: { data: { type: 'array', items: { $ref: 'Row' } }, nextCursor: { type: ['string', 'null'] } } };

const at = new Date('2026-03-04T05:06:07.089Z');
const good = { id: '0190a7d2-7c4e-7000-8000-000000000001', name: 'A "quoted" \\ name\n', count: 3, at, tags: ['a', 'b'] };
const inputs: Array<[string, unknown]> = [
  ['a full row', { ...good, note: 'n', ratio: 1.5, flag: true, meta: { any: [1, 'x'] }, kind: 'org', nested: { x: 2, y: [{ z: 'q' }, { z: null }] }, level: 4, on: false }],
  ['nulls and missing optionals', { ...good, note: null, ratio: null, level: null, on: null }],
  ['extra properties are dropped', { ...good, passwordHash: 'secret' }],
  ['a Date, a RegExp and an object with toString in string fields', { ...good, name: /a+b/, note: at, at: { toString: () => 'custom' } }],
  ['null in a plain string field', { ...good, name: null }],
  ['coerced integers and numbers', { ...good, count: '12', ratio: '2.5' }],
  ['truncated integers', { ...good, count: 7.9 }],
  ['a bigint', { ...good, count: 12345678901234567890n }],
  ['non-finite numbers', { ...good, ratio: Infinity }],
  ['truthy booleans', { ...good, flag: 'yes' }],
  ['non-string tags', { ...good, tags: ['a', 1, null, at] }],
  ['a long tag list', { ...good, tags: Array.from({ length: 20 }, (_, i) => `t${i}`) }],
  ['escapes, surrogates and control characters', { ...good, name: 'x'.repeat(50) + '"\u0001\ud800', note: 'é😀\u2028' }],
  ['null object and null array', { ...good, nested: null, tags: null }],
  ['an object with toJSON', { toJSON: () => good }],
  ['a missing required property', { ...good, name: undefined }],
  ['a non-numeric integer', { ...good, count: 'abc' }],
  ['a non-numeric number', { ...good, ratio: 'abc' }],
  ['a value outside a type list', { ...good, level: 'high' }],
  ['a non-array for an array', { ...good, tags: 'a' }],
];

describe('response projection', () => {
  for (const [name, row] of inputs) {
    it(`writes what fast-json-stringify writes: ${name}`, () => {
      const { expected, actual } = both(Page, { Row }, { data: [row, { ...good }], nextCursor: name.length % 2 ? null : 'abc' });
      expect(actual).toEqual(expected);
    });
  }

  it('writes top-level arrays, scalars and type lists like fast-json-stringify', () => {
    const cases: Array<[Schema, unknown[]]> = [
      [{ type: 'array', items: { type: 'integer' } }, [[1, 2.5, '3'], [], null]],
      [{ type: 'string' }, ['x', null, at, 5]],
      [{ type: ['string', 'null'] }, [null, 'x', at, 5]],
      [{ type: ['integer', 'string'] }, [3, 'x', 2.5]],
      [{ type: 'object', required: ['a'], properties: { a: { type: 'integer' } } }, [{ a: 1 }, { a: undefined }, null]],
      [{ properties: { a: { maxLength: 3 } } }, [{ a: 'abc' }, { a: null }]],
      [{ type: 'object' }, [{ a: 1 }, null]],
      [{}, [{ a: [1, { b: 2 }] }, 'x', 3]],
    ];
    for (const [schema, values] of cases) {
      for (const value of values) {
        const { expected, actual } = both(schema, {}, value);
        expect(actual, `${JSON.stringify(schema)} with ${String(value)}`).toEqual(expected);
      }
    }
  });

  it('declines what it would not write identically', () => {
    const declined: Schema[] = [
      { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      { type: 'object', properties: { a: { oneOf: [{ type: 'string' }] } } },
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true },
      { type: 'object', patternProperties: { '^x': { type: 'string' } } },
      { type: 'object', properties: { '0': { type: 'string' }, b: { type: 'string' } } },
      JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}') as Schema,
      { type: 'string', format: 'date-time' },
      { type: 'string', format: 'date' },
      { type: 'array', items: [{ type: 'string' }] },
      { type: 'object', properties: { a: { type: 'string', nullable: true } } },
      { const: 'x' },
      { type: ['object', 'null'], properties: {} },
      { $ref: 'Missing' },
      { $ref: 'Row#/properties/id' },
    ];
    for (const schema of declined) expect(compileProjection(JSON.parse(JSON.stringify(schema)), { Row }), JSON.stringify(schema)).toBeNull();
    // A recursive schema.
    const Node: Schema = { $id: 'Node', type: 'object', properties: { children: { type: 'array', items: { $ref: 'Node' } } } };
    expect(compileProjection({ $ref: 'Node' }, { Node })).toBeNull();
  });

  it('copies nothing but the arrays of strings it writes as they are', () => {
    const project = compileProjection(Page, { Row })!;
    const tags = ['a', 'b'];
    const out = project({ data: [{ ...good, tags }], nextCursor: null }) as { data: Array<{ tags: string[] }> };
    expect(out.data[0]!.tags).toBe(tags);
  });
});

describe('isoString', () => {
  it('writes what toISOString writes, for every kind of timestamp', () => {
    const cases: Date[] = [new Date(0), new Date(-1), new Date('0099-01-01T00:00:00.000Z'), new Date('9999-12-31T23:59:59.999Z'), new Date('+010000-01-01T00:00:00.000Z'), new Date(8.64e15), new Date(-8.64e15)];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Runs of close timestamps (the day prefix is reused) and scattered ones.
    for (let i = 0; i < 20_000; i++) cases.push(new Date(i % 2 ? Date.UTC(2026, 11, 1) + Math.floor(random() * 86_400_000 * 3) : Math.floor(random() * 253_402_300_800_000)));
    for (const d of cases) expect(isoString(d)).toBe(d.toISOString());
    expect(() => isoString(new Date(NaN))).toThrow(RangeError);
  });
});
