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
// our hooks call its stores directly: before the guard for callers without
// credentials (refused before any lookup), after it for the account, API key
// and tenant. Failed credentials (401)
// count against the address like anonymous requests. If Redis is down,
// counting falls back to this instance's memory (with a warning) instead of
// failing the request.
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { normalizeIP, type FastifyRateLimitStore } from '@fastify/rate-limit';
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
  return store;
}

interface Count {
  budget: Budget;
  max: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The budgets counted so far for this request (before and after the access guard). */
    rateLimitCounts: Count[] | null;
  }
}

/**
 * Registers the budgets' hooks (one before the access guard, one after it:
 * see the hook comments). The hooks take callbacks rather than promises: the
 * in-process store answers synchronously, so a request counted in memory
 * costs no promise and no extra turn of the event loop.
 */
export function registerRateLimits(
  app: FastifyInstance,
  settings: RateLimitSettings,
  deps: { redis?: { client: Redis; isUp(): boolean }; onLimited?: (budget: Budget) => void } = {},
) {
  if (!settings.enabled) return;
  const store = fallbackStore(deps.redis, (err) => app.log.warn({ err: err.message }, 'rate limits: a Redis command failed; counting in-process for a second'));
  const maxOf: Record<Budget, number> = {
    anonymous: settings.anonymousPerMinute,
    account: settings.accountPerMinute,
    api_key: settings.apiKeyPerMinute,
    tenant: settings.tenantPerMinute,
    auth: settings.authPerMinute,
  };
  app.decorateRequest('rateLimitCounts', null);

  // The plugin's own limiter (createRateLimit) computes the same figures from the store's answer, through two promises per budget.
  const count = (budget: Budget, key: string, done: (c: Count) => void) => {
    const max = maxOf[budget];
    store.incr(
      `${budget}:${key}`,
      (err, res) => {
        // The store falls back to memory when Redis fails; should it still fail, the request is not held back.
        if (err || !res) return done({ budget, max, remaining: max, resetSeconds: 0, exceeded: false });
        done({ budget, max, remaining: Math.max(0, max - res.current), resetSeconds: Math.ceil(res.ttl / 1000), exceeded: res.current > max });
      },
      WINDOW_MS,
      max,
    );
  };
  /** Counts each [budget, key] and calls `done` once with every result. */
  const countAll = (items: Array<[Budget, string]>, done: (counts: Count[]) => void) => {
    const counts: Count[] = [];
    let left = items.length;
    for (const [budget, key] of items) {
      count(budget, key, (c) => {
        counts.push(c);
        if (--left === 0) done(counts);
      });
    }
  };

  /** Whether the guard will check this request's credential (public routes and unknown URLs ignore one: their callers count as anonymous). */
  const credentialed = (request: FastifyRequest) => !!request.headers.authorization && !request.routeOptions.config?.public && !request.is404;
  /** Records the counts, sets the headers of the tightest budget, and gives the 429 when one ran out. */
  const apply = (request: FastifyRequest, reply: FastifyReply, counts: Count[]): AppError | undefined => {
    const results = request.rateLimitCounts ? request.rateLimitCounts.concat(counts) : counts;
    request.rateLimitCounts = results;
    // The budget closest to running out is the one the client must pace itself by.
    const tightest = results.reduce((a, b) => ((b.exceeded && !a.exceeded) || (b.exceeded === a.exceeded && b.remaining / b.max < a.remaining / a.max) ? b : a));
    reply.header('ratelimit-limit', tightest.max);
    reply.header('ratelimit-remaining', tightest.remaining);
    reply.header('ratelimit-reset', tightest.resetSeconds);
    if (!tightest.exceeded) return undefined;
    deps.onLimited?.(tightest.budget);
    return new AppError('rate_limited', DETAIL[tightest.budget](tightest.resetSeconds), { headers: { 'retry-after': String(Math.max(1, tightest.resetSeconds)) } });
  };
  // Addresses whose failed credentials (401) went over the anonymous budget:
  // refused before any token or key is checked, until the window ends. Kept
  // in-process (no Redis call on every signed-in request); each instance
  // learns it from the shared count when one of its own 401s goes over.
  const refusedCredentials = new LRUCache<string, number>({ max: 10_000 });

  // Before the access guard: callers without credentials are counted (and refused) before any lookup.
  app.addHook('onRequest', (request, reply, done) => {
    const policy = request.routeOptions.config?.rateLimitPolicy;
    if (policy === 'none') return done();
    if (credentialed(request)) {
      const until = refusedCredentials.get(addressOf(request));
      if (until === undefined || until <= Date.now()) return done();
      const seconds = Math.ceil((until - Date.now()) / 1000);
      deps.onLimited?.('anonymous');
      return done(new AppError('rate_limited', `Too many failed credentials from your address; retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } }));
    }
    const items: Array<[Budget, string]> = [['anonymous', addressOf(request)]];
    if (policy === 'auth') items.push(['auth', addressOf(request)]);
    countAll(items, (counts) => done(apply(request, reply, counts)));
  });

  // After the guard (preParsing runs once every onRequest hook has, before the body is read): the caller it found, and the tenant.
  app.addHook('preParsing', (request, reply, payload, done) => {
    const policy = request.routeOptions.config?.rateLimitPolicy;
    if (policy === 'none') return done(null, payload);
    const { ctx, publicCtx, platformCtx } = request.plinth ?? {};
    const items: Array<[Budget, string]> = [];
    if (ctx?.actor.apiKeyId) items.push(['api_key', ctx.actor.apiKeyId]);
    else if (ctx) items.push(['account', ctx.actor.accountId]);
    else if (platformCtx) items.push(['account', platformCtx.accountId]);
    const tenantId = ctx?.tenant.id ?? publicCtx?.tenant.id;
    if (tenantId) items.push(['tenant', tenantId]);
    // Signed-in callers of auth routes (password change, MFA) also use the auth budget.
    if (policy === 'auth' && credentialed(request)) items.push(['auth', addressOf(request)]);
    if (items.length === 0) return done(null, payload);
    countAll(items, (counts) => {
      const refused = apply(request, reply, counts);
      if (refused) done(refused);
      else done(null, payload);
    });
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 401 || !credentialed(request) || request.plinth?.ctx || request.plinth?.platformCtx) return done();
    count('anonymous', `failed:${addressOf(request)}`, (failed) => {
      if (failed.exceeded) refusedCredentials.set(addressOf(request), Date.now() + Math.max(1, failed.resetSeconds) * 1000);
      done();
    });
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
