// Per-tenant email branding and template overrides.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { ctxOf } from '../http/access-guard.ts';
import { problemResponses, Nullable } from '../http/schemas.ts';
import { AppError } from '../errors.ts';
import type { RequestContext } from '../context.ts';
import type { Platform } from '../module.ts';
import { brandOf } from './brand.ts';
import { checkTemplate } from './render.ts';
import { deleteOverride, findBranding, findOverride, upsertBranding, upsertOverride, type EmailDb } from './repository.ts';
import { auditRequest } from '../audit/writer.ts';
import { scopeToTenant } from '../context.ts';
import { builtInTemplates, isTemplateName } from './templates.ts';

const Branding = Type.Object(
  {
    name: Type.String(),
    logoUrl: Nullable(Type.String()),
    primaryColor: Type.String(),
    footer: Type.String(),
  },
  { $id: 'EmailBranding' },
);
// Null first: with Ajv's type coercion a string-first union turns null into "".
const OrNull = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema]);
const BrandingInput = Type.Object(
  {
    name: OrNull(Type.String({ minLength: 1, maxLength: 100 })),
    logoUrl: OrNull(Type.String({ format: 'uri', pattern: '^https://', maxLength: 2000 })),
    // Only a hex colour: it is written into CSS.
    primaryColor: OrNull(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
    footer: OrNull(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, description: 'Every field; null restores the default' },
);
const TemplateBody = Type.Object(
  { subject: Type.String({ minLength: 1, maxLength: 300 }), html: Type.String({ minLength: 1, maxLength: 100_000 }), text: Type.String({ minLength: 1, maxLength: 100_000 }) },
  { additionalProperties: false },
);
const Template = Type.Object({ name: Type.String(), overridden: Type.Boolean(), subject: Type.String(), html: Type.String(), text: Type.String() }, { $id: 'EmailTemplate' });
const NameParams = Type.Object({ name: Type.String({ pattern: '^[a-z]+(\\.[a-z-]+)+$', maxLength: 100 }) }, { additionalProperties: false });
const tags = ['email'];

const emailDb = (ctx: RequestContext) => ctx.db as unknown as EmailDb;
const templateParts = ({ subject, html, text }: { subject: string; html: string; text: string }) => ({ subject, html, text });

function knownTemplate(name: string) {
  if (!isTemplateName(name)) throw new AppError('not_found', `No email template "${name}"`);
  return name;
}

export const emailRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  app.addSchema(Branding);
  app.addSchema(Template);

  app.get('/v1/email/branding', {
    config: { permission: 'email.settings.read' },
    schema: { tags, summary: "The tenant's email branding (defaults filled in)", response: { 200: Type.Ref('EmailBranding'), ...problemResponses(401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    return brandOf(emailDb(ctx), ctx.tenant);
  });

  app.put('/v1/email/branding', {
    config: { permission: 'email.settings.manage' },
    schema: { tags, summary: "Set the tenant's email branding", body: BrandingInput, response: { 200: Type.Ref('EmailBranding'), ...problemResponses(400, 401, 403) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    await platform.db.transaction().execute(async (trx) => {
      const db = scopeToTenant(trx, ctx.tenant.schemaName) as unknown as EmailDb;
      const before = await findBranding(db);
      const after = await upsertBranding(db, request.body);
      const fields = ({ name, logoUrl, primaryColor, footer }: { name: string | null; logoUrl: string | null; primaryColor: string | null; footer: string | null }) => ({ name, logoUrl, primaryColor, footer });
      await auditRequest(trx, ctx, { action: 'email.branding.updated', targetType: 'email_branding', before: before ? fields(before) : null, after: fields(after) });
    });
    return brandOf(emailDb(ctx), ctx.tenant);
  });

  app.get('/v1/email/templates/:name', {
    config: { permission: 'email.settings.read' },
    schema: { tags, summary: 'A template as this tenant sends it', params: NameParams, response: { 200: Type.Ref('EmailTemplate'), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    const name = knownTemplate(request.params.name);
    const override = await findOverride(emailDb(ctx), name);
    const source = override ?? builtInTemplates[name];
    return { name, overridden: Boolean(override), subject: source.subject, html: source.html, text: source.text };
  });

  app.put('/v1/email/templates/:name', {
    config: { permission: 'email.settings.manage' },
    schema: { tags, summary: "Override a template's subject and bodies for this tenant", params: NameParams, body: TemplateBody, response: { 200: Type.Ref('EmailTemplate'), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const ctx = ctxOf(request);
    const name = knownTemplate(request.params.name);
    for (const part of ['subject', 'html', 'text'] as const) {
      try {
        checkTemplate({ subject: '', html: '', text: '', [part]: request.body[part] });
      } catch (error) {
        throw new AppError('validation_failed', 'The template does not parse', { errors: [{ pointer: `/${part}`, in: 'body', detail: (error as Error).message.split('\n')[0]! }] });
      }
    }
    const row = await platform.db.transaction().execute(async (trx) => {
      const db = scopeToTenant(trx, ctx.tenant.schemaName) as unknown as EmailDb;
      const before = await findOverride(db, name);
      const saved = await upsertOverride(db, { name, ...request.body, updatedBy: ctx.actor.accountId });
      await auditRequest(trx, ctx, { action: 'email.template.overridden', targetType: 'email_template', targetId: name, before: before ? templateParts(before) : null, after: templateParts(saved) });
      return saved;
    });
    return { name, overridden: true, subject: row.subject, html: row.html, text: row.text };
  });

  app.delete('/v1/email/templates/:name', {
    config: { permission: 'email.settings.manage' },
    schema: { tags, summary: "Remove this tenant's override (the built-in applies again)", params: NameParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const ctx = ctxOf(request);
    const name = knownTemplate(request.params.name);
    await platform.db.transaction().execute(async (trx) => {
      const db = scopeToTenant(trx, ctx.tenant.schemaName) as unknown as EmailDb;
      const before = await findOverride(db, name);
      if (!before || !(await deleteOverride(db, name))) throw new AppError('not_found', `This tenant has no override of "${name}"`);
      await auditRequest(trx, ctx, { action: 'email.template.override_removed', targetType: 'email_template', targetId: name, before: templateParts(before) });
    });
    return reply.code(204).send(null);
  });
};
