import { AppError } from '../errors.ts';

// Schema names are derived from the tenant id, never from input: a slug can be
// renamed, and a pre-provisioned spare schema exists before its slug does.
const SCHEMA_RE = /^t_[0-9a-f]{32}$/;
const SLUG_RE = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const RESERVED_SLUGS = new Set(['www', 'api', 'app', 'admin', 'public', 'docs', 'static', 'assets', 'mail', 'status', 'plinth']);

export function schemaNameFor(tenantId: string): string {
  return assertSchemaName(`t_${tenantId.replace(/-/g, '').toLowerCase()}`);
}

export function assertSchemaName(name: string): string {
  if (!SCHEMA_RE.test(name)) throw new Error(`Refusing unsafe tenant schema name ${JSON.stringify(name)}`);
  return name;
}

export function isValidSlug(slug: string): boolean {
  return SLUG_RE.test(slug) && !slug.includes('--') && !RESERVED_SLUGS.has(slug);
}

export function assertSlug(slug: string): string {
  if (!isValidSlug(slug)) {
    throw new AppError('validation_failed', 'A tenant slug is 1-40 lowercase letters, digits and single hyphens, starts with a letter and is not reserved', {
      errors: [{ pointer: '/slug', detail: 'invalid or reserved slug' }],
    });
  }
  return slug;
}
