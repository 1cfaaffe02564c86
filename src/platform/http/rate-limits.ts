// Request budgets, counted by @fastify/rate-limit's stores (Redis when
// REDIS_URL is set, so every API instance shares one budget; in-process
// otherwise). Each request is counted against:
//   - its caller: the client IP when anonymous, the account when signed in,
//     the API key for key callers (each key has its own budget);
//   - its tenant: one overall budget shared by everyone in the tenant;
//   - routes with `config.rateLimitPolicy: 'auth'` (credential checks: login,
//     refresh, MFA, password reset, invitation accept...) also count against
//     a much smaller per-IP budget shared by all those routes.
// Routes with `rateLimitPolicy: 'none'` (health, metrics) are not counted.
// The answer carries RateLimit-Limit/-Remaining/-Reset (IETF draft, the
// budget closest to running out) and a 429 problem with Retry-After.
//
// The plugin's own per-route hooks allow one limit per route; the budgets
// here are several per request and depend on who the access guard found, so
// the limiters come from its `createRateLimit` and run in our hooks: before
// the guard for callers without credentials (refused before any lookup),
// after it for the account, API key and tenant. Failed credentials (401)
// count against the address like anonymous requests. If Redis is down,
// counting falls back to this instance's memory (with a warning) instead of
// failing the request.
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import rateLimit, { normalizeIP, type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import type { Config } from '../../config.ts';

export type RateLimitPolicy = 'auth' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'auth': the strict per-IP budget of credential-checking routes on top of the usual ones; 'none': not counted. */
    rateLimitPolicy?: RateLimitPolicy;
  }
}

export interface RateLimitSettings {
  enabled: boolean;
  anonymousPerMinute: number;
  accountPerMinute: number;
  apiKeyPerMinute: number;
  tenantPerMinute: number;
  authPerMinute: number;
}

/** The settings from the app config. */
export const rateLimitSettings = (
  c: Pick<Config, 'RATE_LIMIT_ENABLED' | 'RATE_LIMIT_ANONYMOUS_PER_MINUTE' | 'RATE_LIMIT_ACCOUNT_PER_MINUTE' | 'RATE_LIMIT_API_KEY_PER_MINUTE' | 'RATE_LIMIT_TENANT_PER_MINUTE' | 'AUTH_RATE_LIMIT_PER_MINUTE'>,
): RateLimitSettings => ({
  enabled: c.RATE_LIMIT_ENABLED,
  anonymousPerMinute: c.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
  accountPerMinute: c.RATE_LIMIT_ACCOUNT_PER_MINUTE,
  apiKeyPerMinute: c.RATE_LIMIT_API_KEY_PER_MINUTE,
  tenantPerMinute: c.RATE_LIMIT_TENANT_PER_MINUTE,
  authPerMinute: c.AUTH_RATE_LIMIT_PER_MINUTE,
});

type Budget = 'anonymous' | 'account' | 'api_key' | 'tenant' | 'auth';
const WINDOW_MS = 60_000;

type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore;
// The plugin's two stores (not in its type definitions, hence require).
const require = createRequire(import.meta.url);
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor;

/**
 * The Redis store while Redis answers, else the in-process one (keys are
 * already namespaced: no per-route children). After a failed command (a Redis
 * that hangs rather than drops the connection) Redis is skipped for a second,
 * so requests do not each wait for the command timeout.
 */
function fallbackStore(redis: { client: Redis; isUp(): boolean } | undefined, onFallback: (err: Error) => void) {
  const local = new LocalStore(false, false, 20_000);
  const shared = redis ? new RedisStore(false, false, redis.client, 'plinth:rl:') : undefined;
  let skipUntil = 0;
  const store: FastifyRateLimitStore = {
    incr(key, cb, timeWindow, max) {
      if (!shared || !redis!.isUp() || Date.now() < skipUntil) return local.incr(key, cb, timeWindow, max);
      shared.incr(
        key,
        (err, res) => {
          if (!err) return cb(null, res);
          if (Date.now() >= skipUntil) onFallback(err);
          skipUntil = Date.now() + 1000;
          local.incr(key, cb, timeWindow, max);
        },
        timeWindow,
        max,
      );
    },
    child: () => store,
  };
  return class {
    constructor() {
      return store;
    }
  } as unknown as new () => FastifyRateLimitStore;
}

interface Count {
  budget: Budget;
  max: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

/** Registers the budgets' hooks (one before the access guard, one after it: see the hook comments). */
export async function registerRateLimits(
  app: FastifyInstance,
  settings: RateLimitSettings,
  deps: { redis?: { client: Redis; isUp(): boolean }; onLimited?: (budget: Budget) => void } = {},
) {
  if (!settings.enabled) return;
  const store = fallbackStore(deps.redis, (err) => app.log.warn({ err: err.message }, 'rate limits: a Redis command failed; counting in-process for a second'));
  // The key of each budget for a request, read by the limiters' keyGenerator.
  const keys = new WeakMap<FastifyRequest, Partial<Record<Budget, string>>>();
  const limiters = new Map<Budget, (request: FastifyRequest, key: string) => Promise<Count>>();
  const maxOf: Record<Budget, number> = {
    anonymous: settings.anonymousPerMinute,
    account: settings.accountPerMinute,
    api_key: settings.apiKeyPerMinute,
    tenant: settings.tenantPerMinute,
    auth: settings.authPerMinute,
  };
  // In a child scope: the plugin's onRoute hook would otherwise inspect every route's config.
  await app.register(async (scope) => {
    await scope.register(rateLimit, { global: false, store, skipOnError: true });
    for (const budget of Object.keys(maxOf) as Budget[]) {
      const limit = scope.createRateLimit({ max: maxOf[budget], timeWindow: WINDOW_MS, keyGenerator: (request) => `${budget}:${keys.get(request)![budget]}`, skipOnError: true });
      limiters.set(budget, async (request, k) => {
        let mine = keys.get(request);
        if (!mine) keys.set(request, (mine = {}));
        mine[budget] = k;
        const r = await limit(request);
        if (r.isAllowed) return { budget, max: maxOf[budget], remaining: maxOf[budget], resetSeconds: 0, exceeded: false };
        return { budget, max: r.max, remaining: r.remaining, resetSeconds: r.ttlInSeconds, exceeded: r.isExceeded };
      });
    }
  });
  const count = (budget: Budget, request: FastifyRequest, key: string) => limiters.get(budget)!(request, key);

  /** Whether the guard will check this request's credential (public routes and unknown URLs ignore one: their callers count as anonymous). */
  const credentialed = (request: FastifyRequest) => !!request.headers.authorization && !request.routeOptions.config?.public && !request.is404;
  // Results of the budgets counted so far for a request (before and after the guard).
  const counted = new WeakMap<FastifyRequest, Count[]>();
  const apply = async (request: FastifyRequest, reply: FastifyReply, counts: Array<Promise<Count>>) => {
    const results = [...(counted.get(request) ?? []), ...(await Promise.all(counts))];
    counted.set(request, results);
    // The budget closest to running out is the one the client must pace itself by.
    const tightest = results.reduce((a, b) => ((b.exceeded && !a.exceeded) || (b.exceeded === a.exceeded && b.remaining / b.max < a.remaining / a.max) ? b : a));
    reply.header('ratelimit-limit', tightest.max);
    reply.header('ratelimit-remaining', tightest.remaining);
    reply.header('ratelimit-reset', tightest.resetSeconds);
    if (!tightest.exceeded) return;
    deps.onLimited?.(tightest.budget);
    throw new AppError('rate_limited', DETAIL[tightest.budget](tightest.resetSeconds), { headers: { 'retry-after': String(Math.max(1, tightest.resetSeconds)) } });
  };
  // Addresses whose failed credentials (401) went over the anonymous budget:
  // refused before any token or key is checked, until the window ends. Kept
  // in-process (no Redis call on every signed-in request); each instance
  // learns it from the shared count when one of its own 401s goes over.
  const refusedCredentials = new LRUCache<string, number>({ max: 10_000 });

  // Before the access guard: callers without credentials are counted (and refused) before any lookup.
  app.addHook('onRequest', async (request, reply) => {
    const policy = request.routeOptions.config?.rateLimitPolicy;
    if (policy === 'none') return;
    if (credentialed(request)) {
      const until = refusedCredentials.get(addressOf(request));
      if (until === undefined || until <= Date.now()) return;
      const seconds = Math.ceil((until - Date.now()) / 1000);
      deps.onLimited?.('anonymous');
      throw new AppError('rate_limited', `Too many failed credentials from your address; retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
    }
    const counts = [count('anonymous', request, addressOf(request))];
    if (policy === 'auth') counts.push(count('auth', request, addressOf(request)));
    await apply(request, reply, counts);
  });

  // After the guard (preParsing runs once every onRequest hook has, before the body is read): the caller it found, and the tenant.
  app.addHook('preParsing', async (request, reply, payload) => {
    const policy = request.routeOptions.config?.rateLimitPolicy;
    if (policy === 'none') return payload;
    const { ctx, publicCtx, platformCtx } = request.plinth ?? {};
    const counts: Array<Promise<Count>> = [];
    if (ctx?.actor.apiKeyId) counts.push(count('api_key', request, ctx.actor.apiKeyId));
    else if (ctx) counts.push(count('account', request, ctx.actor.accountId));
    else if (platformCtx) counts.push(count('account', request, platformCtx.accountId));
    const tenantId = ctx?.tenant.id ?? publicCtx?.tenant.id;
    if (tenantId) counts.push(count('tenant', request, tenantId));
    // Signed-in callers of auth routes (password change, MFA) also use the auth budget.
    if (policy === 'auth' && credentialed(request)) counts.push(count('auth', request, addressOf(request)));
    if (counts.length > 0) await apply(request, reply, counts);
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 401 || !credentialed(request) || request.plinth?.ctx || request.plinth?.platformCtx) return;
    const failed = await count('anonymous', request, `failed:${addressOf(request)}`);
    if (failed.exceeded) refusedCredentials.set(addressOf(request), Date.now() + Math.max(1, failed.resetSeconds) * 1000);
  });
}

/** The client address as a budget key: an IPv6 client is its /64 (one host can use a whole /64), IPv4-mapped addresses are IPv4. */
const addressOf = (request: FastifyRequest) => normalizeIP(request.ip, 64);

const DETAIL: Record<Budget, (s: number) => string> = {
  anonymous: (s) => `Too many requests from your address; retry in ${s} s`,
  account: (s) => `Too many requests from your account; retry in ${s} s`,
  api_key: (s) => `Too many requests with this API key; retry in ${s} s`,
  tenant: (s) => `This tenant's request budget is used up; retry in ${s} s`,
  auth: (s) => `Too many sign-in attempts from your address; retry in ${s} s`,
};
