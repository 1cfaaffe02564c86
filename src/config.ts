// Configuration is parsed once, at boot, from one typed schema. Every invalid
// variable is reported together so an operator fixes them in one pass.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';

const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });

export const ConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on.' }),
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3000,
    description: 'API port. When the default port is busy, a free one is used and printed; 0 always picks a free port.',
  }),
  PUBLIC_URL: Type.Optional(Type.String({ format: 'uri', description: 'Base URL printed and used in links; defaults to http://HOST:PORT.' })),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL server to use. Unset: an embedded PostgreSQL in PLINTH_DATA_DIR.' }),
  ),
  PLINTH_DATA_DIR: Type.String({ default: './.plinth', description: 'Data folder for the embedded PostgreSQL and local files.' }),
  EMBEDDED_PG_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Port of the embedded PostgreSQL; 0 picks a free one.' }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 10, description: 'Connections in the pool.' }),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 30000, description: 'statement_timeout of pooled connections.' }),
  DB_POOL_GROUPS: Type.Integer({ minimum: 0, maximum: 500, default: 0, description: 'Connection groups for tenant affinity: a tenant\'s queries use its group\'s connections (borrowing when they are all busy), so each PostgreSQL backend caches the catalog of fewer tenants. 0: DB_POOL_MAX / 2 (two connections a group); DB_POOL_MAX: one a group (less backend memory, a slow query holds up its group); 1: no affinity.' }),
  DB_POOL_BORROW_AFTER_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: 'With many tenants active, how long a tenant query waits for a connection of its own group before taking a spare one of another group (whose backend may first load the tenant\'s catalog entries, ~3 ms). 0: it waits until its group\'s line is much longer than the others\'.' }),
  DB_POOL_MAX_LIFETIME_SECONDS: Type.Integer({ minimum: 0, default: 300, description: 'Close pooled connections older than this (0: never): a backend caches catalog entries of every tenant table it touched.' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  TRUST_PROXY: Bool(false, 'Trust X-Forwarded-* headers (behind a reverse proxy).'),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated allowed origins; empty disables CORS; * allows any.' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1048576, description: 'Largest accepted request body.' }),
  TENANT_BASE_DOMAIN: Type.Optional(
    Type.String({ pattern: '^[a-z0-9.-]+$', description: 'Resolve the tenant from <slug>.TENANT_BASE_DOMAIN host names.' }),
  ),
  TENANT_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    default: 300000,
    description: "How long a tenant lookup, a member's permission set and a verified access token are reused (in process, and in Redis with REDIS_URL). Changes made through the API or CLI invalidate cached entries on every instance at once, so this is a backstop for changes made by hand in the database (0: no cache). The CLI must share the API's REDIS_URL: the invalidations travel on Redis when it is set, else on PostgreSQL NOTIFY.",
  }),
  TENANT_SPARE_POOL_SIZE: Type.Integer({ minimum: 0, maximum: 1000, default: 5, description: 'Pre-migrated spare tenant schemas kept ready for sign-up (`plinth tenants pool refill`); 0 disables the pool.' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 900 }),
  JWT_ISSUER: Type.String({ default: 'plinth', minLength: 1 }),
  SIGNING_KEY_ROTATE_DAYS: Type.Integer({ minimum: 1, default: 30, description: 'At boot, a JWT signing key older than this is retired and a new one created.' }),
  SESSION_IDLE_TIMEOUT_SECONDS: Type.Integer({ minimum: 60, default: 1209600, description: 'A login session unused (not refreshed) for this long ends.' }),
  SESSION_MAX_LIFETIME_SECONDS: Type.Integer({ minimum: 60, default: 2592000, description: 'A login session ends this long after the login, however often it is refreshed.' }),
  AUDIT_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 0, description: 'Audit rows older than this many days are purged by a daily job (the chain re-anchors); 0 keeps them forever.' }),
  LOGIN_FREE_ATTEMPTS: Type.Integer({ minimum: 1, default: 5, description: 'Failed logins per (email, IP) before each further failure locks that pair, for 1 s doubling per failure.' }),
  LOGIN_MAX_LOCK_SECONDS: Type.Integer({ minimum: 1, default: 900, description: 'Longest lock of one (email, IP) pair after failed logins.' }),
  LOGIN_FAILURE_RESET_SECONDS: Type.Integer({ minimum: 60, default: 43200, description: 'Failed logins of a pair older than this are forgotten.' }),
  AUTH_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 30, description: 'Requests per client IP per minute to the credential-checking routes together (login, refresh, MFA, password change/reset, invitation accept), on top of the other budgets.' }),
  RATE_LIMIT_ENABLED: Bool(true, 'Count requests against the budgets below (429 over budget); shared by every instance through Redis when REDIS_URL is set.'),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: Type.Integer({ minimum: 1, default: 120, description: 'Requests per minute per client IP without credentials.' }),
  RATE_LIMIT_ACCOUNT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600, description: 'Requests per minute per signed-in account.' }),
  RATE_LIMIT_API_KEY_PER_MINUTE: Type.Integer({ minimum: 1, default: 1200, description: 'Requests per minute per API key.' }),
  RATE_LIMIT_TENANT_PER_MINUTE: Type.Integer({ minimum: 1, default: 6000, description: "Requests per minute to one tenant, all its callers together." }),
  EMAIL_LINK_BASE_URL: Type.Optional(Type.String({ format: 'uri', description: 'Base of the links in verification, reset and invitation mails (your front end: /verify-email, /reset-password, /accept-invitation, each with ?token=); defaults to PUBLIC_URL.' })),
  EMAIL_VERIFY_TTL_SECONDS: Type.Integer({ minimum: 60, default: 86400, description: 'Lifetime of an email verification link.' }),
  PASSWORD_RESET_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86400, default: 1800, description: 'Lifetime of a password reset link.' }),
  INVITATION_TTL_SECONDS: Type.Integer({ minimum: 60, default: 604800, description: 'Lifetime of an invitation link.' }),
  REFRESH_REUSE_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 60, default: 10, description: 'A refresh token presented again this soon after its use gets the same successor back instead of revoking the session.' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10000, description: 'How long in-flight requests may drain on shutdown.' }),
  DOCS_ENABLED: Bool(true, 'Serve /docs and /openapi.json.'),
  MIGRATE_TENANTS_ON_BOOT: Bool(true, 'Bring every tenant schema up to date at boot (small fleets); set false where `npm run migrate` runs fleet migrations.'),
  DEMO_SEED: Bool(true, 'npm start creates the demo tenant "acme" when it does not exist.'),
  JOBS_IN_API: Bool(true, 'Run the job worker inside the API process; set false where `npm run worker` runs the jobs.'),
  JOBS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 100, default: 4, description: 'Jobs one worker process runs at the same time.' }),
  JOBS_POLL_INTERVAL_MS: Type.Integer({ minimum: 100, default: 2000, description: 'Fallback poll of the job table (new jobs are announced by LISTEN/NOTIFY).' }),
  JOBS_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 25, description: 'Attempts (exponential backoff between them) before a job lands in the failure list.' }),
  JOBS_CRON: Bool(true, 'Schedule the platform crons (the daily per-tenant fan-out) from this worker.'),
  JOBS_TASKS: Type.String({ default: '', description: 'Comma-separated task names or prefixes (`email.*`) this worker runs; empty runs every task.' }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://', description: 'SMTP server for outgoing mail. Unset: each message is written as an .eml file under PLINTH_DATA_DIR/mail.' })),
  EMAIL_FROM: Type.String({ format: 'email', default: 'no-reply@plinth.localhost', description: "Sender address; the display name is the tenant's brand name." }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'Redis for shared rate-limit budgets, cross-instance realtime fan-out, the shared cache level and cache invalidation; unset: in-process budgets, PostgreSQL (LISTEN/NOTIFY) fan-out and invalidation. If Redis goes down, each degrades (warning logged, /health/ready reports redis) and recovers when it is back.' })),
  REALTIME_ENABLED: Bool(true, 'Serve live notifications over WebSocket (socket.io at /socket.io).'),
  WEBHOOKS_ALLOW_PRIVATE: Bool(false, 'Allow webhook URLs on loopback and private networks (development only).'),
  WEBHOOKS_DISABLE_AFTER: Type.Integer({ minimum: 1, default: 5, description: 'Disable a webhook endpoint after this many deliveries in a row exhausted their retries.' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ format: 'uri', description: 'OpenTelemetry collector (OTLP/HTTP, e.g. http://127.0.0.1:4318): traces of HTTP, PostgreSQL and Redis are sent to <endpoint>/v1/traces. Unset: no tracing.' })),
  OTEL_SERVICE_NAME: Type.String({ default: 'plinth', minLength: 1, description: 'service.name of the traces (set e.g. plinth-worker for workers).' }),
  OTEL_TRACES_SAMPLE_RATIO: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'Share of new traces kept (a traced caller decides for its own requests).' }),
  METRICS_ENABLED: Bool(true, 'Serve Prometheus metrics at GET /metrics.'),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'When set, /metrics needs "Authorization: Bearer <token>".' })),
  FILES_DRIVER: Type.Enum(['local', 's3'], { default: 'local', description: 'Where file bytes go: local disk under PLINTH_DATA_DIR/files, or S3.' }),
  FILES_MAX_BYTES: Type.Integer({ minimum: 1, default: 26214400, description: 'Largest file accepted by POST /v1/files (413 above).' }),
  FILES_TENANT_QUOTA_BYTES: Type.Integer({ minimum: 0, default: 1073741824, description: 'Storage each tenant may use in total.' }),
  FILES_ALLOWED_TYPES: Type.String({
    default: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,application/zip',
    description: 'Comma-separated content types accepted, as sniffed from the bytes (415 otherwise).',
  }),
  FILES_URL_TTL_SECONDS: Type.Integer({ minimum: 10, maximum: 86400, default: 300, description: 'Lifetime of signed download and upload URLs.' }),
  FILES_URL_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'Key of local-driver download URLs; unset: random per process.' })),
  S3_BUCKET: Type.Optional(Type.String({ minLength: 3 })),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ENDPOINT: Type.Optional(Type.String({ format: 'uri', description: 'S3-compatible endpoint (MinIO, R2, ...); unset: AWS.' })),
  S3_FORCE_PATH_STYLE: Bool(false, 'Path-style URLs (endpoint/bucket/key), needed by most S3-compatible servers.'),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String()),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String()),
  SECRETS_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'Key (32 bytes, base64: `openssl rand -base64 32`) encrypting stored credentials such as HubSpot tokens. Unset: a key generated once and kept in the database, with a warning (development only).' })),
  HUBSPOT_API_BASE: Type.String({ format: 'uri', default: 'https://api.hubapi.com', description: 'HubSpot API base URL (tests point it at a local server).' }),
  HUBSPOT_PUSH_DELAY_SECONDS: Type.Integer({ minimum: 0, maximum: 86400, default: 30, description: 'A CRM change in a tenant connected to HubSpot schedules a sync this many seconds later (later changes move it: one run per burst).' }),
  HUBSPOT_SYNC_INTERVAL_MINUTES: Type.Integer({ minimum: 1, maximum: 10080, default: 60, description: 'A connected tenant syncs with HubSpot at the latest this long after its last run (webhooks and CRM changes trigger runs sooner).' }),
  HUBSPOT_SYNC_BATCH: Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Records per HubSpot search page and batch write (HubSpot caps batches at 100).' }),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Reads `.env` (if present) under the process environment, which wins. */
export function readEnv(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(readFileSync(resolve(cwd, '.env')));
  } catch {
    // no .env: fine
  }
  const merged: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

export function loadConfig(env: Record<string, string | undefined> = readEnv()): Config {
  const keys = Object.keys(ConfigSchema.properties);
  const input: Record<string, unknown> = {};
  for (const key of keys) {
    const raw = env[key];
    // An empty string means "unset", as in most .env files.
    if (raw !== undefined && raw !== '') input[key] = raw;
  }
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, input));
  const problems = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const key = error.instancePath.replace(/^\//, '');
    if (!problems.has(key)) problems.set(key, `${key}=${JSON.stringify(input[key])}: ${error.message}`);
  }
  if (problems.size > 0) throw new ConfigError([...problems.values()]);
  return value as Config;
}

/** For entry points: the config, or every problem on stderr and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\nSee .env.example for every setting.\n`);
    process.exit(1);
  }
}
