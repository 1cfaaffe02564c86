// TypeBox contracts of the HubSpot routes. No schema has a field for the token
// on the way out: the status never carries it.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

const Rule = Type.Union([Type.Literal('hubspot'), Type.Literal('plinth'), Type.Literal('newest'), Type.Literal('manual')], {
  description: 'hubspot/plinth: that side always wins; newest: the side that changed wins, the more recently modified record when both did; manual: a field both sides changed becomes a conflict',
});
const RulesOf = Type.Record(Type.String({ pattern: '^[a-zA-Z]+$' }), Rule);
const RulesByObject = Type.Object({ company: Type.Optional(RulesOf), contact: Type.Optional(RulesOf), deal: Type.Optional(RulesOf) }, { additionalProperties: false, description: 'Per object and field: who wins (fields: GET shows them all with their current rule)' });

export const ConnectBody = Type.Object(
  {
    accessToken: Type.String({ minLength: 10, maxLength: 2000, pattern: '^\\S+$', description: 'Private app token or OAuth access token; stored encrypted, never shown again' }),
    clientSecret: Type.Optional(Type.String({ minLength: 8, maxLength: 500, description: "The app's client secret, to verify webhook signatures (v3); stored encrypted" })),
    defaultCurrency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'Currency of HubSpot deal amounts without deal_currency_code (default USD)' })),
    fieldRules: Type.Optional(RulesByObject),
  },
  { additionalProperties: false },
);

const Counts = Type.Object({ pulled: Type.Integer(), created: Type.Integer(), updated: Type.Integer(), pushed: Type.Integer(), conflicts: Type.Integer(), failed: Type.Integer() });

export const Status = Type.Object(
  {
    connected: Type.Boolean(),
    status: Nullable(Type.String()),
    portalId: Nullable(Type.String()),
    connectedBy: Nullable(Uuid),
    connectedAt: Nullable(Type.String({ format: 'date-time' })),
    hasClientSecret: Type.Boolean(),
    defaultCurrency: Nullable(Type.String()),
    apiBase: Type.String(),
    webhookUrl: Type.String({ description: 'Target URL to enter in the HubSpot app webhook settings' }),
    fieldRules: Type.Record(Type.String(), Type.Record(Type.String(), Rule)),
    cursors: Type.Record(Type.String(), Type.String({ format: 'date-time' })),
    openConflicts: Type.Integer(),
    lastRun: Nullable(
      Type.Object({
        id: Uuid,
        trigger: Type.String(),
        status: Type.String(),
        counts: Counts,
        errors: Type.Array(Type.Object({ object: Type.String(), id: Nullable(Type.String()), message: Type.String() })),
        startedAt: Type.String({ format: 'date-time' }),
        finishedAt: Nullable(Type.String({ format: 'date-time' })),
      }),
    ),
  },
  { $id: 'HubspotStatus' },
);

export const Conflict = Type.Object(
  {
    id: Uuid,
    objectType: Type.String(),
    recordId: Uuid,
    hubspotId: Type.String(),
    field: Type.String(),
    baseValue: Type.Unknown(),
    plinthValue: Type.Unknown(),
    hubspotValue: Type.Unknown(),
    detectedAt: Type.String({ format: 'date-time' }),
    resolvedAt: Nullable(Type.String({ format: 'date-time' })),
    resolvedBy: Nullable(Uuid),
    resolution: Nullable(Type.String()),
  },
  { $id: 'HubspotConflict' },
);

export const ConflictQuery = Type.Object(
  { status: Type.Union([Type.Literal('open'), Type.Literal('resolved')], { default: 'open' }), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) },
  { additionalProperties: false },
);
export const ResolveBody = Type.Object({ use: Type.Union([Type.Literal('hubspot'), Type.Literal('plinth')]) }, { additionalProperties: false });
export const SyncBody = Type.Object({ full: Type.Optional(Type.Boolean({ description: 'Ignore the modification cursors and pull everything' })) }, { additionalProperties: false });
export const WebhookParams = Type.Object({ tenantSlug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }) }, { additionalProperties: false });
