// Schemas shared by every module's route contracts.
import { Type, type TSchema } from 'typebox';
import { errorCatalogue } from '../errors.ts';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.Enum(Object.keys(errorCatalogue)),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ pointer: Type.String(), in: Type.Optional(Type.String()), detail: Type.String() })),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' },
);

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation errors carry JSON pointers)',
  401: 'Missing or invalid access token',
  403: 'Missing permission, suspended tenant, or tenant mismatch',
  404: 'Not found (records of other tenants are indistinguishable from missing ones)',
  409: 'Conflict with an existing record',
  413: 'Body too large',
  415: 'Unsupported content type',
  422: 'A referenced record does not exist',
  503: 'Tenant schema is being upgraded',
};

/** Problem responses for the OpenAPI contract of a route. */
export function problemResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('Problem', { description: DESCRIPTIONS[s] ?? 'Error' })]));
}

export const Uuid = Type.String({ format: 'uuid' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
