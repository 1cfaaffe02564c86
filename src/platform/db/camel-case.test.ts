import { describe, expect, it } from 'vitest';
import { CamelCasePlugin, type QueryResult, type UnknownRow } from 'kysely';
import { FastCamelCasePlugin } from './camel-case.ts';

const map = (plugin: CamelCasePlugin, rows: UnknownRow[]) =>
  (plugin.transformResult({ result: { rows } as QueryResult<UnknownRow>, queryId: { queryId: 'q' } }) as Promise<QueryResult<UnknownRow>>).then((r) => r.rows);

describe('FastCamelCasePlugin', () => {
  const at = new Date('2026-01-02T03:04:05.006Z');
  const rows: UnknownRow[] = [
    { id: 1, first_name: 'A', created_at: at, deleted_at: null, tags: ['x', { inner_key: 1 }], meta: { some_key: { deep_key: [1, { x_y: 2 }] } }, raw: Buffer.from('x'), n: 5n },
    { id: 2, first_name: 'B', created_at: at, deleted_at: at, tags: [], meta: Object.assign(Object.create(null), { null_proto: true }), raw: null, n: null },
    // A different column list after the first ones, then the first list again.
    { count: 3, 'weird"name': 'q', 'x\\y': 1, '__dunder__': 2, '1st_col': 'num' },
    { id: 3, first_name: 'C', created_at: at, deleted_at: null, tags: null, meta: null, raw: null, n: null },
  ];

  it('maps rows exactly as Kysely\'s CamelCasePlugin does', async () => {
    const expected = await map(new CamelCasePlugin(), rows);
    const actual = await map(new FastCamelCasePlugin(), rows);
    expect(actual).toStrictEqual(expected);
    expect(Object.keys(actual[2]!)).toEqual(Object.keys(expected[2]!));
    expect(actual[0]).toEqual({ id: 1, firstName: 'A', createdAt: at, deletedAt: null, tags: ['x', { innerKey: 1 }], meta: { someKey: { deepKey: [1, { xY: 2 }] } }, raw: Buffer.from('x'), n: 5n });
  });

  it('keeps nested keys when asked to, like Kysely', async () => {
    const opt = { maintainNestedObjectKeys: true };
    expect(await map(new FastCamelCasePlugin(opt), rows)).toStrictEqual(await map(new CamelCasePlugin(opt), rows));
  });

  it('does not let a column name inject code', async () => {
    const evil = { 'a"]); throw new Error("x"); (["': 1 };
    expect(await map(new FastCamelCasePlugin(), [evil])).toStrictEqual(await map(new CamelCasePlugin(), [evil]));
  });
});
