import { Type } from 'typebox';
import { Nullable, Uuid } from '../../platform/http/schemas.ts';

export const File = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    size: Type.Integer(),
    sha256: Nullable(Type.String({ description: 'Hex SHA-256 of the bytes (null for direct uploads)' })),
    contentType: Type.String({ description: 'As sniffed from the bytes' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('ready')]),
    hasThumbnail: Type.Boolean(),
    recordType: Nullable(Type.String()),
    recordId: Nullable(Uuid),
    uploadedBy: Uuid,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'File' },
);

export const RecordLinkQuery = Type.Object(
  {
    recordType: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.]{0,62}$', description: 'Kind of record the file belongs to, e.g. crm.contact' })),
    recordId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const SignedUrl = Type.Object({ url: Type.String(), expiresAt: Type.String({ format: 'date-time' }) });

export const UrlQuery = Type.Object({ variant: Type.Union([Type.Literal('original'), Type.Literal('thumbnail')], { default: 'original' }) }, { additionalProperties: false });

export const GrantUpload = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    contentType: Type.String({ minLength: 3, maxLength: 100 }),
    size: Type.Integer({ minimum: 1 }),
    recordType: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.]{0,62}$' })),
    recordId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const UploadGrant = Type.Object({
  file: Type.Ref('File'),
  upload: Type.Object({ method: Type.Literal('PUT'), url: Type.String(), headers: Type.Record(Type.String(), Type.String()), expiresAt: Type.String({ format: 'date-time' }) }),
});
