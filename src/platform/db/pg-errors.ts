// PostgreSQL error codes we react to (https://www.postgresql.org/docs/current/errcodes-appendix.html).
interface PgError {
  code?: string;
  constraint?: string;
}

const asPg = (e: unknown): PgError => (typeof e === 'object' && e !== null ? (e as PgError) : {});

export const isUniqueViolation = (e: unknown, constraint?: string) =>
  asPg(e).code === '23505' && (constraint === undefined || asPg(e).constraint === constraint);

export const isForeignKeyViolation = (e: unknown) => asPg(e).code === '23503';

/** Class 22 (data exception): input PostgreSQL could not take, e.g. an out-of-range number. */
export const isDataException = (e: unknown) => typeof asPg(e).code === 'string' && asPg(e).code!.startsWith('22');
