// Business rules of the HubSpot integration: connecting (token checked against
// HubSpot, stored encrypted), status, sync triggers, conflicts and the
// signed inbound webhooks. Every function that acts for a user takes ctx first.
import type { FastifyBaseLogger } from 'fastify';
import { scopeToTenant, type RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/module.ts';
import { auditSourceOf, recordAudit } from '../../platform/audit/writer.ts';
import { secretBox } from '../../platform/secrets.ts';
import { hubspotClient, HubSpotError } from './client.ts';
import { effectiveRules, fieldsOf } from './mapping.ts';
import * as repo from './repository.ts';
import { verifyV3 } from './signature.ts';
import type { Conflict, FieldRules, ObjectType, SyncRun } from './tables.ts';
import { scheduleNextSync, SYNC_TASK, syncJobOptions } from './tasks.ts';

export interface ConnectInput {
  accessToken: string;
  clientSecret?: string;
  defaultCurrency?: string;
  fieldRules?: FieldRules;
}

export const tokenPurpose = (tenantId: string) => `hubspot.token:${tenantId}`;
export const clientSecretPurpose = (tenantId: string) => `hubspot.client-secret:${tenantId}`;

const notConnected = () => new AppError('not_found', 'HubSpot is not connected for this tenant');

const runJson = (r: SyncRun | undefined) =>
  r ? { id: r.id, trigger: r.trigger, status: r.status, counts: r.counts, errors: r.errors, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null } : null;

export const conflictJson = (c: Conflict) => ({
  id: c.id,
  objectType: c.objectType,
  recordId: c.plinthId,
  hubspotId: c.hubspotId,
  field: c.field,
  baseValue: c.baseValue ?? null,
  plinthValue: c.plinthValue ?? null,
  hubspotValue: c.hubspotValue ?? null,
  detectedAt: c.detectedAt.toISOString(),
  resolvedAt: c.resolvedAt?.toISOString() ?? null,
  resolvedBy: c.resolvedBy,
  resolution: c.resolution,
});

export function createHubspotService(platform: Platform, log: FastifyBaseLogger) {
  const { config } = platform;
  const box = () => secretBox(platform, log);

  function checkRules(rules: FieldRules | undefined) {
    for (const [type, fields] of Object.entries(rules ?? {})) {
      const known = fieldsOf(type as ObjectType);
      for (const field of Object.keys(fields ?? {})) {
        if (!known.includes(field)) throw new AppError('validation_failed', `Unknown ${type} field "${field}"`, { errors: [{ in: 'body', pointer: `/fieldRules/${type}/${field}`, detail: `not one of ${known.join(', ')}` }] });
      }
    }
  }

  async function status(ctx: RequestContext) {
    const db = repo.hsDb(ctx.db);
    const conn = await repo.getConnection(db);
    const lastRun = await repo.latestRun(db);
    const open = await db.selectFrom('hubspotConflicts').select((eb) => eb.fn.countAll<number>().as('n')).where('resolvedAt', 'is', null).executeTakeFirstOrThrow();
    const base = (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/$/, '');
    return {
      connected: conn !== undefined,
      status: conn?.status ?? null,
      portalId: conn?.portalId ?? null,
      connectedBy: conn?.connectedBy ?? null,
      connectedAt: conn?.connectedAt.toISOString() ?? null,
      hasClientSecret: !!conn?.clientSecretEnc,
      defaultCurrency: conn?.defaultCurrency ?? null,
      apiBase: config.HUBSPOT_API_BASE,
      webhookUrl: `${base}/v1/integrations/hubspot/webhooks/${ctx.tenant.slug}`,
      fieldRules: effectiveRules(conn?.fieldRules ?? {}),
      cursors: Object.fromEntries(Object.entries(conn?.cursors ?? {}).map(([k, v]) => [k, new Date(v).toISOString()])),
      openConflicts: Number(open.n),
      lastRun: runJson(lastRun),
    };
  }

  return {
    status,

    async connect(ctx: RequestContext, input: ConnectInput) {
      checkRules(input.fieldRules);
      let portalId: string;
      try {
        portalId = String((await hubspotClient({ baseUrl: config.HUBSPOT_API_BASE, token: input.accessToken, maxRetries: 2 }).accountInfo()).portalId);
      } catch (e) {
        if (e instanceof HubSpotError && (e.status === 401 || e.status === 403)) {
          throw new AppError('validation_failed', 'HubSpot refused this access token', { errors: [{ in: 'body', pointer: '/accessToken', detail: `HubSpot answered ${e.status}` }] });
        }
        throw new AppError('integration_unavailable', `HubSpot could not be reached: ${e instanceof HubSpotError ? `HTTP ${e.status}` : (e as Error).name}`);
      }
      const secrets = await box();
      const now = new Date();
      await ctx.db.transaction().execute(async (trx) => {
        const db = repo.hsDb(trx);
        const before = await repo.getConnection(db);
        if (before && before.portalId !== portalId) {
          // Another HubSpot account: the old links and conflicts mean nothing there.
          await db.deleteFrom('hubspotLinks').execute();
          await db.deleteFrom('hubspotConflicts').where('resolvedAt', 'is', null).execute();
        }
        const row = {
          tokenEnc: secrets.encrypt(input.accessToken, tokenPurpose(ctx.tenant.id)),
          clientSecretEnc: input.clientSecret ? secrets.encrypt(input.clientSecret, clientSecretPurpose(ctx.tenant.id)) : (before?.clientSecretEnc ?? null),
          portalId,
          fieldRules: JSON.stringify(input.fieldRules ?? before?.fieldRules ?? {}),
          defaultCurrency: input.defaultCurrency ?? before?.defaultCurrency ?? 'USD',
          cursors: before && before.portalId === portalId ? JSON.stringify(before.cursors) : '{}',
          status: 'connected' as const,
          connectedBy: ctx.actor.accountId,
          connectedAt: before && before.portalId === portalId ? before.connectedAt : now,
          updatedAt: now,
        };
        await db.insertInto('hubspotConnection').values({ id: true, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
        await scheduleNextSync(trx, platform.jobs, ctx.tenant.id, config.HUBSPOT_SYNC_INTERVAL_MINUTES);
        await recordAudit(trx, auditSourceOf(ctx), {
          action: before ? 'integrations.hubspot.updated' : 'integrations.hubspot.connected',
          targetType: 'integration',
          // What changed, never the secrets themselves.
          before: before ? { portalId: before.portalId, fieldRules: before.fieldRules, defaultCurrency: before.defaultCurrency, hasClientSecret: !!before.clientSecretEnc } : null,
          after: { portalId, fieldRules: JSON.parse(row.fieldRules), defaultCurrency: row.defaultCurrency, hasClientSecret: !!row.clientSecretEnc },
          details: { tokenReplaced: true },
        });
      });
      return status(ctx);
    },

    async disconnect(ctx: RequestContext) {
      await ctx.db.transaction().execute(async (trx) => {
        const db = repo.hsDb(trx);
        const conn = await repo.getConnection(db);
        if (!conn) throw notConnected();
        await db.deleteFrom('hubspotConnection').execute();
        await db.deleteFrom('hubspotLinks').execute();
        await db.deleteFrom('hubspotConflicts').where('resolvedAt', 'is', null).execute();
        await recordAudit(trx, auditSourceOf(ctx), { action: 'integrations.hubspot.disconnected', targetType: 'integration', before: { portalId: conn.portalId }, after: null });
      });
    },

    async triggerSync(ctx: RequestContext, input: { full?: boolean }) {
      const conn = await repo.getConnection(repo.hsDb(ctx.db));
      if (!conn) throw notConnected();
      if (conn.status === 'auth_failed') throw new AppError('conflict', 'HubSpot refused the stored token: connect again (PUT) with a valid token');
      const job = await platform.jobs.enqueue(platform.db, ctx.tenant.id, SYNC_TASK, { trigger: 'manual', full: input.full ?? false }, { ...syncJobOptions(ctx.tenant.id), jobKey: `hubspot-sync:${ctx.tenant.id}` });
      return { jobId: job.id };
    },

    async conflicts(ctx: RequestContext, query: { status: 'open' | 'resolved'; limit: number }) {
      return { data: (await repo.listConflicts(repo.hsDb(ctx.db), query.status, query.limit)).map(conflictJson) };
    },

    async resolve(ctx: RequestContext, id: string, use: 'hubspot' | 'plinth') {
      const resolved = await ctx.db.transaction().execute(async (trx) => {
        const db = repo.hsDb(trx);
        const c = await repo.conflictById(db, id, true);
        if (!c) throw new AppError('not_found', 'No such conflict');
        if (c.resolvedAt) throw new AppError('conflict', 'This conflict is already resolved');
        const conn = await repo.getConnection(db);
        if (!conn) throw notConnected();
        const link = await repo.linkByPlinth(db, c.objectType, c.plinthId);
        const record = await repo.readRecord(db, c.objectType, c.plinthId, true);
        if (link && record && !record.deletedAt) {
          if (use === 'hubspot') {
            const stage = c.field === 'stageId' && c.hubspotValue ? await repo.stageById(db, c.hubspotValue as string) : undefined;
            const at = await repo.updateRecord(db, c.objectType, record, { [c.field]: c.hubspotValue ?? null }, ctx.actor.accountId, stage);
            // Plinth changes still waiting for a push stay waiting.
            const upToDate = link.plinthSyncedAt !== null && link.plinthSyncedAt >= record.updatedAt;
            await repo.saveLink(db, { ...link, snapshot: { ...link.snapshot, [c.field]: c.hubspotValue ?? null }, plinthSyncedAt: upToDate ? at : link.plinthSyncedAt, needsPush: link.needsPush });
          } else {
            // HubSpot's value becomes the base, so Plinth is the side that changed: the next run pushes it.
            await repo.saveLink(db, { ...link, snapshot: { ...link.snapshot, [c.field]: c.hubspotValue ?? null }, needsPush: true });
          }
        }
        const row = await db.updateTable('hubspotConflicts').set({ resolvedAt: new Date(), resolvedBy: ctx.actor.accountId, resolution: use }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        await recordAudit(trx, auditSourceOf(ctx), {
          action: 'integrations.hubspot.conflict_resolved',
          targetType: c.objectType,
          targetId: c.plinthId,
          details: { conflictId: c.id, field: c.field, use, value: use === 'hubspot' ? c.hubspotValue : c.plinthValue },
        });
        if (use === 'plinth') await platform.jobs.enqueue(trx, ctx.tenant.id, SYNC_TASK, { trigger: 'resolve' }, { ...syncJobOptions(ctx.tenant.id), jobKey: `hubspot-sync:${ctx.tenant.id}` });
        return row;
      });
      return conflictJson(resolved);
    },

    /** A batch of HubSpot webhook events: verified, each event id taken once, a targeted inbound fetch enqueued. */
    async receiveWebhook(req: { tenantSlug: string; method: string; uri: string; body: string; signature?: string; timestamp?: string }) {
      const tenant = await platform.directory.bySlug(req.tenantSlug);
      if (!tenant) throw new AppError('tenant_not_found');
      if (tenant.status === 'suspended') throw new AppError('tenant_suspended');
      // HubSpot retries on 5xx: an outdated schema answers 503 like the guard does for other routes.
      if (tenant.schemaVersion !== platform.migrations.latest) throw new AppError('tenant_schema_outdated', undefined, { headers: { 'retry-after': '30' } });
      const tdb = scopeToTenant(platform.db, tenant.schemaName);
      const conn = await repo.getConnection(repo.hsDb(tdb));
      if (!conn || !conn.clientSecretEnc) throw new AppError('not_found', 'HubSpot webhooks are not configured for this tenant (connect with a clientSecret)');
      const secret = (await box()).decrypt(conn.clientSecretEnc, clientSecretPurpose(tenant.id));
      const verdict = verifyV3({ secret, method: req.method, uri: req.uri, body: req.body, signature: req.signature, timestamp: req.timestamp });
      if (verdict !== 'ok') throw new AppError('invalid_signature', { missing: 'Send X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp', stale: 'The request timestamp is older than 5 minutes', mismatch: 'The signature does not match' }[verdict]);
      let events: unknown;
      try {
        events = JSON.parse(req.body);
      } catch {
        throw new AppError('malformed_json');
      }
      const list = Array.isArray(events) ? events : [events];
      const valid = list.filter((e): e is { eventId: string | number; subscriptionType: string; objectId?: string | number; portalId?: string | number } => {
        const x = e as Record<string, unknown> | null;
        return !!x && (typeof x.eventId === 'string' || typeof x.eventId === 'number') && typeof x.subscriptionType === 'string';
      });
      if (valid.length !== list.length) throw new AppError('validation_failed', 'Every event needs an eventId and a subscriptionType');
      const only: Partial<Record<ObjectType, string[]>> = {};
      let fresh = 0;
      await tdb.transaction().execute(async (trx) => {
        const db = repo.hsDb(trx);
        for (const e of valid) {
          const objectId = e.objectId === undefined ? null : String(e.objectId);
          if (!(await repo.firstSighting(db, { eventId: String(e.eventId), subscriptionType: e.subscriptionType, objectId }))) continue;
          fresh++;
          if (conn.portalId && e.portalId !== undefined && String(e.portalId) !== conn.portalId) continue;
          const type = e.subscriptionType.split('.')[0] as ObjectType;
          // Deletions are not synced; creations, property changes, merges and association changes re-read the object.
          if (!['company', 'contact', 'deal'].includes(type) || !objectId || !/^\d{1,20}$/.test(objectId) || e.subscriptionType.endsWith('.deletion')) continue;
          const ids = (only[type] ??= []);
          if (!ids.includes(objectId)) ids.push(objectId);
        }
        if (Object.keys(only).length > 0) await platform.jobs.enqueue(trx, tenant.id, SYNC_TASK, { trigger: 'webhook', only }, syncJobOptions(tenant.id));
      });
      return { received: valid.length, processed: fresh };
    },
  };
}
