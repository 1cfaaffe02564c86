import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { buildSerializer, forSerialization } from './serializer.ts';
import { Nullable, Uuid } from './schemas.ts';

const Row = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    note: Nullable(Type.String()),
    ownerId: Nullable(Uuid),
    count: Nullable(Type.Integer()),
    at: Type.String({ format: 'date-time' }),
    deletedAt: Nullable(Type.String({ format: 'date-time' })),
    tags: Nullable(Type.Array(Type.String())),
    day: Type.String({ format: 'date' }),
  },
  { $id: 'Row' },
);
const Page = Type.Object({ data: Type.Array(Type.Ref('Row')), nextCursor: Nullable(Type.String()) });

const serialize = (doc: unknown) => buildSerializer()({ Row: JSON.parse(JSON.stringify(Row)) })({ method: 'GET', url: '/x', httpStatus: '200', schema: JSON.parse(JSON.stringify(Page)) })(doc);

describe('response serialisation', () => {
  it('writes the same JSON as JSON.stringify for nulls, dates and values', () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const rows = [
      { id: '0190a7d2-7c4e-7000-8000-000000000001', name: 'A "quoted" \\ name', note: null, ownerId: null, count: null, at, deletedAt: null, tags: null, day: '2026-03-04' },
      { id: '0190a7d2-7c4e-7000-8000-000000000002', name: 'Zoë', note: 'line\nbreak', ownerId: '0190a7d2-7c4e-7000-8000-000000000003', count: 7, at, deletedAt: new Date('0099-01-01T00:00:00.000Z'), tags: ['x'], day: '2026-03-04' },
    ];
    const page = { data: rows, nextCursor: null };
    expect(serialize(page)).toBe(JSON.stringify(page));
    expect(JSON.parse(serialize({ data: rows, nextCursor: 'abc' }))).toEqual(JSON.parse(JSON.stringify({ data: rows, nextCursor: 'abc' })));
  });

  it('still drops properties the schema does not declare', () => {
    const at = new Date();
    const out = JSON.parse(serialize({ data: [{ id: 'i', name: 'n', note: null, ownerId: null, count: null, at, deletedAt: null, tags: null, day: 'd', passwordHash: 'secret' }], nextCursor: null }));
    expect(out.data[0]).not.toHaveProperty('passwordHash');
  });

  it('rewrites scalar nullables to type lists and drops date-time formats, leaving the rest and the input alone', () => {
    const schema = JSON.parse(JSON.stringify(Row));
    const before = JSON.stringify(schema);
    const out = forSerialization(schema) as { properties: Record<string, unknown> };
    expect(JSON.stringify(schema)).toBe(before);
    expect(out.properties.note).toEqual({ type: ['string', 'null'] });
    expect(out.properties.ownerId).toEqual({ type: ['string', 'null'], format: 'uuid' });
    expect(out.properties.deletedAt).toEqual({ type: ['string', 'null'] });
    expect(out.properties.at).toEqual({ type: 'string' });
    expect(out.properties.day).toEqual({ type: 'string', format: 'date' });
    // Not a scalar: left as anyOf (fast-json-stringify handles it as before).
    expect(out.properties.tags).toEqual(schema.properties.tags);
  });
});
