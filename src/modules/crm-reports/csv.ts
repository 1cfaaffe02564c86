// Report rows as CSV (RFC 4180 quoting by csv-stringify).
import { stringify } from 'csv-stringify/sync';

export const toCsv = (columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string =>
  stringify(rows as Array<Record<string, unknown>>, { header: true, columns: columns as string[], cast: { boolean: (v) => String(v) } });
