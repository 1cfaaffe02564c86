// Secure by default. Every route declares in its config either the permission
// it needs or `public: true`; `onReady` refuses to start an app with a route
// that declares neither (or names an unregistered permission). One root
// `onRequest` hook then authenticates, resolves the tenant and checks the
// permission before the body is even parsed.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Db } from '../db/database.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { TenantDirectory } from '../tenancy/directory.ts';
import type { TenantMigrationSet } from '../tenancy/tenant-migrations.ts';
import type { PermissionRegistry } from '../permissions.ts';
import type { Tenant } from '../db/public-tables.ts';
import { scopeToTenant, type PublicContext, type RequestContext, type TenantRef } from '../context.ts';
import { AppError } from '../errors.ts';
import { isApiKey, verifyApiKey } from '../auth/api-keys.ts';
import { appendAudit } from '../audit/writer.ts';
import { PLATFORM_PERMISSION_RE, platformAdminContext, type PlatformContext } from '../tenancy/platform-admins.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission (from the registry) the caller needs in the request's tenant. */
    permission?: string;
    /** Open to anonymous callers. */
    public?: boolean;
    /** For public routes: resolve the tenant from X-Tenant or the host (login needs it). */
    tenant?: 'required';
    /** A platform permission (`platform.<resource>.<action>`): platform admins only, no tenant (see tenancy/platform-admins.ts). */
    platformPermission?: string;
  }
  interface FastifyRequest {
    plinth: { ctx?: RequestContext; publicCtx?: PublicContext; platformCtx?: PlatformContext };
  }
}

export interface GuardDeps {
  db: Db;
  tokens: TokenService;
  directory: TenantDirectory;
  permissions: PermissionRegistry;
  migrations: TenantMigrationSet;
  tenantBaseDomain: string | undefined;
}

const TENANT_HEADER = 'x-tenant';
/** What a token restricted to MFA enrolment may still do: see yourself and manage your own sign-in. */
const SIGN_IN_PERMISSIONS = new Set(['identity.me.read', 'identity.sessions.manage']);

/** Routes registered inside `fn` are public (for third-party plugins such as the docs UI). */
export function markRoutesPublic(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), public: true };
  });
}

function declarationProblem(route: RouteOptions, permissions: PermissionRegistry): string | null {
  const { permission, public: isPublic, platformPermission } = route.config ?? {};
  const where = `${Array.isArray(route.method) ? route.method.join(',') : route.method} ${route.url}`;
  if (platformPermission) {
    if (permission || isPublic) return `${where} declares platformPermission together with a tenant permission or public: true`;
    return PLATFORM_PERMISSION_RE.test(platformPermission) ? null : `${where}: platformPermission "${platformPermission}" must look like platform.<resource>.<action>`;
  }
  if (permission && isPublic) return `${where} declares both a permission and public: true`;
  if (!permission && !isPublic) return `${where} declares neither a permission nor public: true`;
  if (permission && !permissions.has(permission)) return `${where} needs permission "${permission}", which no module registers`;
  return null;
}

/** The tenant slug named by the request itself (header, else subdomain). */
function requestedSlug(request: FastifyRequest, baseDomain: string | undefined): string | undefined {
  const header = request.headers[TENANT_HEADER];
  const fromHeader = typeof header === 'string' && header.trim() ? header.trim().toLowerCase() : undefined;
  let fromHost: string | undefined;
  if (baseDomain) {
    const host = request.hostname.toLowerCase();
    if (host.endsWith(`.${baseDomain}`)) {
      const sub = host.slice(0, -baseDomain.length - 1);
      if (sub && !sub.includes('.')) fromHost = sub;
    }
  }
  if (fromHeader && fromHost && fromHeader !== fromHost) throw new AppError('tenant_mismatch', 'The X-Tenant header and the host name name different tenants');
  return fromHeader ?? fromHost;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (!auth) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (!match) throw new AppError('invalid_token', 'Send the access token as "Authorization: Bearer <token>"');
  return match[1];
}

export const tenantRef = (t: Tenant): TenantRef => ({ id: t.id, slug: t.slug, displayName: t.displayName, schemaName: t.schemaName });

export function registerAccessGuard(app: FastifyInstance, deps: GuardDeps) {
  const routes: RouteOptions[] = [];
  app.decorateRequest('plinth', null as never);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const problems = routes.map((r) => declarationProblem(r, deps.permissions)).filter((p): p is string => p !== null);
    if (problems.length > 0) throw new Error(`Refusing to start: every route must declare a permission or public: true.\n  ${problems.join('\n  ')}`);
  });

  // A cached tenant row may predate `plinth migrate up` (run by another
  // process, which does not announce each of thousands of tenants): an
  // outdated version is read again before the request is refused.
  const currentTenant = async (by: { slug: string } | { id: string }): Promise<Tenant> => {
    const lookup = (fresh: boolean) => ('slug' in by ? deps.directory.bySlug(by.slug, fresh) : deps.directory.byId(by.id, fresh));
    const cached = await lookup(false);
    return usableTenant(cached && cached.schemaVersion !== deps.migrations.latest ? await lookup(true) : cached);
  };
  const usableTenant = (tenant: Tenant | null): Tenant => {
    if (!tenant) throw new AppError('tenant_not_found');
    if (tenant.status === 'suspended') throw new AppError('tenant_suspended');
    if (tenant.schemaVersion !== deps.migrations.latest) {
      throw new AppError('tenant_schema_outdated', `The data of tenant "${tenant.slug}" is at schema version ${tenant.schemaVersion ?? 'none'}, this API needs ${deps.migrations.latest}; run the tenant migrations`, {
        headers: { 'retry-after': '30' },
      });
    }
    return tenant;
  };

  app.addHook('onRequest', async (request) => {
    request.plinth = {};
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public) {
      if (config.tenant !== 'required') return;
      const slug = requestedSlug(request, deps.tenantBaseDomain);
      if (!slug) throw new AppError('tenant_required');
      const tenant = await currentTenant({ slug });
      request.plinth.publicCtx = { requestId: request.id, tenant: tenantRef(tenant) };
      return;
    }
    const token = bearerToken(request);
    if (!token) throw new AppError('unauthenticated', 'Send an access token: Authorization: Bearer <token>');
    const key = isApiKey(token) ? await verifyApiKey(deps.db, token) : undefined;
    const claims = key ?? (await deps.tokens.verify(token));
    if (config.platformPermission) {
      if (key) throw new AppError('permission_denied', 'API keys cannot use platform routes');
      request.plinth.platformCtx = await platformAdminContext(deps.db, request.id, claims, config.platformPermission);
      return;
    }
    const slug = requestedSlug(request, deps.tenantBaseDomain);
    const tenant = await currentTenant(slug ? { slug } : { id: claims.tenantId });
    if (tenant.id !== claims.tenantId) throw new AppError('tenant_mismatch', `The access token was issued for another tenant than "${tenant.slug}"`);
    const access = await deps.directory.access(tenant, claims.accountId);
    if (!access) throw new AppError('permission_denied', 'Your account is not an active member of this tenant');
    const role = access.role;
    // A key holds the permissions it was given that its creator still holds (demoting the creator narrows the key), with the creator's scopes.
    const permissions = key ? new Set(key.apiKey.permissions.filter((p) => access.permissions.has(p) && !SIGN_IN_PERMISSIONS.has(p))) : access.permissions;
    const needed = config.permission!;
    if (claims.restricted === 'mfa_enrollment' && !SIGN_IN_PERMISSIONS.has(needed)) {
      throw new AppError('mfa_enrollment_required', 'This tenant requires MFA for your role: enroll (POST /v1/auth/mfa/totp, then /confirm) and refresh your token');
    }
    if (!permissions.has(needed)) {
      throw new AppError('permission_denied', key ? `This needs the permission "${needed}", which this API key does not hold` : `This needs the permission "${needed}", which the role "${role}" does not have`);
    }
    if (key?.apiKey.used) {
      // Key use is a security event, recorded at most once a minute per key (with last_used_at).
      await appendAudit(deps.db, tenant.schemaName, { actorId: claims.accountId, requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null }, {
        action: 'auth.api_key.used',
        targetType: 'api_key',
        targetId: key.apiKey.id,
      });
    }
    request.plinth.ctx = {
      requestId: request.id,
      tenant: tenantRef(tenant),
      actor: { accountId: claims.accountId, role, permissions, scopes: access.scopes, ...(claims.sessionId ? { sessionId: claims.sessionId } : {}), ...(key ? { apiKeyId: key.apiKey.id } : {}) },
      db: scopeToTenant(deps.db, tenant.schemaName),
      client: { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
    };
  });
}

/** The context of an authenticated route (set by the guard). */
export function ctxOf(request: FastifyRequest): RequestContext {
  const ctx = request.plinth.ctx;
  if (!ctx) throw new Error(`No request context on ${request.method} ${request.url}: is the route public?`);
  return ctx;
}

/** The context of a public route that declared `tenant: 'required'`. */
export function publicCtxOf(request: FastifyRequest): PublicContext {
  const ctx = request.plinth.publicCtx;
  if (!ctx) throw new Error(`No tenant context on ${request.method} ${request.url}: declare config.tenant = 'required'`);
  return ctx;
}
