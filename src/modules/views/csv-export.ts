// Streaming CSV export of a list: pages through the same keyset query as the
// list endpoint (filters, sort, view) 500 rows at a time and writes each
// page as CSV, so memory stays flat however many rows match (no cap).
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';

const PAGE = 500;

export function csvExport<R>(
  reply: FastifyReply,
  filename: string,
  columns: readonly string[],
  page: (cursor: string | undefined, limit: number) => Promise<{ data: R[]; nextCursor: string | null }>,
  toRow: (record: R) => Record<string, unknown>,
): FastifyReply {
  async function* chunks() {
    yield stringify([], { header: true, columns: columns as string[] });
    let cursor: string | undefined;
    do {
      const p = await page(cursor, PAGE);
      if (p.data.length > 0) yield stringify(p.data.map(toRow), { columns: columns as string[], cast: { boolean: (v) => String(v), date: (v) => v.toISOString(), object: (v) => JSON.stringify(v) } });
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
  }
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(Readable.from(chunks()));
}

/** Custom values as `custom.<key>` columns; lists join with "; ". */
export const customColumns = (keys: readonly string[], custom: Record<string, unknown>) =>
  Object.fromEntries(keys.map((k) => [`custom.${k}`, Array.isArray(custom[k]) ? (custom[k] as unknown[]).join('; ') : custom[k]]));
