// A small HubSpot CRM client over fetch. The official @hubspot/api-client
// would work (it takes a basePath) but wraps every call in generated classes
// and its own retry layer; the handful of endpoints used here (search, list,
// batch read/update/upsert, v4 associations, pipelines) are plain JSON, and
// owning the 429 handling keeps the retry bounded and visible in one place.
import type { ObjectType } from './tables.ts';

export const HUBSPOT_TYPES: Record<ObjectType, string> = { company: 'companies', contact: 'contacts', deal: 'deals' };

export interface HsObject {
  id: string;
  properties: Record<string, string | null>;
  updatedAt?: string;
  archived?: boolean;
}
export interface HsPage<T> {
  results: T[];
  paging?: { next?: { after: string } };
}
export interface HsPipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: Array<{ id: string; label: string; displayOrder: number; metadata: Record<string, string> }>;
}
export interface HsAssociation {
  from: { id: string };
  to: Array<{ toObjectId: string | number; associationTypes?: unknown[] }>;
}

export class HubSpotError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HubSpotError';
    this.status = status;
  }
}

export interface ClientOptions {
  baseUrl: string;
  token: string;
  /** Retries of a 429 or 5xx answer before giving up (each waits Retry-After or a doubling backoff). */
  maxRetries?: number;
  /** Longest single wait, ms (HubSpot's burst window is 10 s). */
  maxWaitMs?: number;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function hubspotClient(opts: ClientOptions) {
  const base = opts.baseUrl.replace(/\/$/, '');
  const maxRetries = opts.maxRetries ?? 5;
  const maxWaitMs = opts.maxWaitMs ?? 10_000;
  let throttled = 0;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
      if ((res.status === 429 || res.status >= 500) && attempt < maxRetries) {
        if (res.status === 429) throttled++;
        const retryAfter = Number(res.headers.get('retry-after'));
        const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 500 * 2 ** attempt;
        await res.body?.cancel();
        await sleep(Math.min(wait, maxWaitMs));
        continue;
      }
      const text = await res.text();
      if (!res.ok) {
        // HubSpot's error body has a message and a correlationId; never echo our request (it has the token).
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not JSON
        }
        throw new HubSpotError(res.status, `HubSpot ${method} ${path.split('?')[0]} answered ${res.status}: ${message}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  return {
    /** 429 answers met so far (each waited and retried). */
    get throttled() {
      return throttled;
    },
    accountInfo: () => call<{ portalId: number | string }>('GET', '/account-info/v3/details'),
    list: (type: ObjectType, properties: string[], limit: number, after?: string) =>
      call<HsPage<HsObject>>('GET', `/crm/v3/objects/${HUBSPOT_TYPES[type]}?${new URLSearchParams({ limit: String(limit), properties: properties.join(','), archived: 'false', ...(after ? { after } : {}) })}`),
    /** Objects modified at or after `sinceMs`, oldest first. */
    searchModifiedSince: (type: ObjectType, modifiedProperty: string, sinceMs: number, properties: string[], limit: number, after?: string) =>
      call<HsPage<HsObject> & { total?: number }>('POST', `/crm/v3/objects/${HUBSPOT_TYPES[type]}/search`, {
        filterGroups: [{ filters: [{ propertyName: modifiedProperty, operator: 'GTE', value: String(sinceMs) }] }],
        sorts: [{ propertyName: modifiedProperty, direction: 'ASCENDING' }],
        properties,
        limit,
        ...(after ? { after } : {}),
      }),
    batchRead: (type: ObjectType, ids: string[], properties: string[]) =>
      call<{ results: HsObject[] }>('POST', `/crm/v3/objects/${HUBSPOT_TYPES[type]}/batch/read`, { inputs: ids.map((id) => ({ id })), properties }),
    batchUpdate: (type: ObjectType, inputs: Array<{ id: string; properties: Record<string, string | null> }>) =>
      call<{ results: HsObject[] }>('POST', `/crm/v3/objects/${HUBSPOT_TYPES[type]}/batch/update`, { inputs }),
    /** Create-or-update keyed by a unique property (`id` holds the property's value). */
    batchUpsert: (type: ObjectType, idProperty: string, inputs: Array<{ id: string; properties: Record<string, string | null> }>) =>
      call<{ results: Array<HsObject & { new?: boolean }> }>('POST', `/crm/v3/objects/${HUBSPOT_TYPES[type]}/batch/upsert`, { inputs: inputs.map((i) => ({ ...i, idProperty })) }),
    create: (type: ObjectType, properties: Record<string, string | null>) => call<HsObject>('POST', `/crm/v3/objects/${HUBSPOT_TYPES[type]}`, { properties }),
    readAssociations: (from: ObjectType, to: ObjectType, ids: string[]) =>
      call<{ results: HsAssociation[] }>('POST', `/crm/v4/associations/${HUBSPOT_TYPES[from]}/${HUBSPOT_TYPES[to]}/batch/read`, { inputs: ids.map((id) => ({ id })) }),
    createAssociations: (from: ObjectType, to: ObjectType, typeId: number, pairs: Array<[string, string]>) =>
      call<unknown>('POST', `/crm/v4/associations/${HUBSPOT_TYPES[from]}/${HUBSPOT_TYPES[to]}/batch/create`, {
        inputs: pairs.map(([f, t]) => ({ from: { id: f }, to: { id: t }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] })),
      }),
    archiveAssociations: (from: ObjectType, to: ObjectType, pairs: Array<[string, string]>) =>
      call<unknown>('POST', `/crm/v4/associations/${HUBSPOT_TYPES[from]}/${HUBSPOT_TYPES[to]}/batch/archive`, { inputs: pairs.map(([f, t]) => ({ from: { id: f }, to: [{ id: t }] })) }),
    dealPipelines: () => call<{ results: HsPipeline[] }>('GET', '/crm/v3/pipelines/deals'),
    /** The unique `plinth_id` deal property that deal upserts key on; created when missing. */
    async ensureDealIdProperty(): Promise<void> {
      try {
        await call('GET', '/crm/v3/properties/deals/plinth_id');
      } catch (e) {
        if (!(e instanceof HubSpotError) || e.status !== 404) throw e;
        await call('POST', '/crm/v3/properties/deals', { name: 'plinth_id', label: 'Plinth ID', type: 'string', fieldType: 'text', groupName: 'dealinformation', hasUniqueValue: true });
      }
    },
  };
}

export type HubSpotClient = ReturnType<typeof hubspotClient>;
