// A local HTTP server following HubSpot's documented CRM API shapes, for the
// tests: v3 objects (list with `after` cursors, search with filterGroups and
// `paging.next.after`, batch read/update/upsert with `idProperty`), v4
// associations (batch read/create/archive, HubSpot-defined type ids checked per
// direction), deal pipelines, the properties
// endpoint, account info, Bearer auth (401) and scripted 429s with Retry-After.
import { createServer, type IncomingMessage, type Server } from 'node:http';

type Props = Record<string, string | null>;
interface Obj {
  id: string;
  properties: Props;
  createdAt: string;
  updatedAt: string;
}
type HsType = 'companies' | 'contacts' | 'deals';
const MODIFIED: Record<HsType, string> = { companies: 'hs_lastmodifieddate', contacts: 'lastmodifieddate', deals: 'hs_lastmodifieddate' };

export const PIPELINES = [
  {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    stages: [
      { id: 'appointmentscheduled', label: 'Appointment scheduled', displayOrder: 0, metadata: { isClosed: 'false', probability: '0.2' } },
      { id: 'qualifiedtobuy', label: 'Qualified to buy', displayOrder: 1, metadata: { isClosed: 'false', probability: '0.4' } },
      { id: 'closedwon', label: 'Closed won', displayOrder: 2, metadata: { isClosed: 'true', probability: '1.0' } },
      { id: 'closedlost', label: 'Closed lost', displayOrder: 3, metadata: { isClosed: 'true', probability: '0.0' } },
    ],
  },
];

/** HubSpot-defined v4 association type ids by direction (HubSpot's association type list); others are refused. */
const ASSOCIATION_TYPES: Record<string, number[]> = {
  'contacts:companies': [1, 279],
  'companies:contacts': [2, 280],
  'deals:contacts': [3],
  'contacts:deals': [4],
  'deals:companies': [5, 341],
  'companies:deals': [6, 342],
};
const PRIMARY = [1, 2, 5, 6];

export interface Logged {
  method: string;
  path: string;
  status: number;
  body: any;
}

export async function startFakeHubSpot(opts: { token: string; portalId?: number }) {
  const objects: Record<HsType, Map<string, Obj>> = { companies: new Map(), contacts: new Map(), deals: new Map() };
  // `${fromType}:${fromId}:${toType}` → target id → association type id
  const assoc = new Map<string, Map<string, number>>();
  const log: Logged[] = [];
  let nextId = 1000;
  let lastTs = 0;
  let throttle: { remaining: number; retryAfter: string } = { remaining: 0, retryAfter: '1' };
  let dealIdProperty = false;
  let token = opts.token;

  const stamp = () => {
    lastTs = Math.max(Date.now(), lastTs + 1);
    return new Date(lastTs).toISOString();
  };
  const write = (type: HsType, id: string | null, props: Props): Obj & { new: boolean } => {
    const now = stamp();
    const existing = id ? objects[type].get(id) : undefined;
    const obj: Obj = existing ?? { id: String(nextId++), properties: {}, createdAt: now, updatedAt: now };
    for (const [k, v] of Object.entries(props)) obj.properties[k] = v === '' ? null : v;
    obj.properties.hs_object_id = obj.id;
    obj.properties[MODIFIED[type]] = now;
    obj.updatedAt = now;
    objects[type].set(obj.id, obj);
    return { ...obj, new: !existing };
  };
  const view = (type: HsType, o: Obj, props?: string[]) => ({
    id: o.id,
    properties: props ? Object.fromEntries([...props, 'hs_object_id', MODIFIED[type], 'createdate'].map((p) => [p, o.properties[p] ?? null])) : { ...o.properties },
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: false,
  });
  const link = (from: HsType, fromId: string, to: HsType, toId: string, typeId: number) => {
    const k = `${from}:${fromId}:${to}`;
    if (!assoc.has(k)) assoc.set(k, new Map());
    assoc.get(k)!.set(toId, typeId);
    const back = `${to}:${toId}:${from}`;
    if (!assoc.has(back)) assoc.set(back, new Map());
    // The other direction has its own type id (contact → company 1 is company → contact 2).
    const at = (ASSOCIATION_TYPES[`${from}:${to}`] ?? []).indexOf(typeId);
    assoc.get(back)!.set(fromId, ASSOCIATION_TYPES[`${to}:${from}`]?.[at] ?? typeId);
  };
  const unlink = (from: HsType, fromId: string, to: HsType, toId: string) => {
    assoc.get(`${from}:${fromId}:${to}`)?.delete(toId);
    assoc.get(`${to}:${toId}:${from}`)?.delete(fromId);
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<any>((resolve) => {
      let s = '';
      req.on('data', (c: Buffer) => (s += c.toString()));
      req.on('end', () => resolve(s ? JSON.parse(s) : undefined));
    });

  function route(method: string, url: URL, body: any): [number, unknown] {
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if (method === 'GET' && p === '/account-info/v3/details') return [200, { portalId: opts.portalId ?? 4242, timeZone: 'Europe/Paris', companyCurrency: 'EUR', utcOffset: '+01:00' }];
    if (method === 'GET' && p === '/crm/v3/pipelines/deals') return [200, { results: PIPELINES }];
    if (method === 'GET' && p === '/crm/v3/properties/deals/plinth_id') {
      return dealIdProperty ? [200, { name: 'plinth_id', hasUniqueValue: true, type: 'string' }] : [404, { status: 'error', message: 'Unable to find property plinth_id', category: 'OBJECT_NOT_FOUND' }];
    }
    if (method === 'POST' && p === '/crm/v3/properties/deals') {
      dealIdProperty = true;
      return [201, { ...body }];
    }
    if ((m = p.match(/^\/crm\/v3\/objects\/(companies|contacts|deals)$/))) {
      const type = m[1] as HsType;
      if (method === 'POST') return [201, view(type, write(type, null, body.properties))];
      const limit = Number(url.searchParams.get('limit') ?? 10);
      const offset = Number(url.searchParams.get('after') ?? 0);
      const props = url.searchParams.get('properties')?.split(',');
      const all = [...objects[type].values()];
      const page = all.slice(offset, offset + limit);
      const more = offset + limit < all.length;
      return [200, { results: page.map((o) => view(type, o, props)), ...(more ? { paging: { next: { after: String(offset + limit), link: `${url.origin}${p}?after=${offset + limit}` } } } : {}) }];
    }
    if (method === 'POST' && (m = p.match(/^\/crm\/v3\/objects\/(companies|contacts|deals)\/search$/))) {
      const type = m[1] as HsType;
      let all = [...objects[type].values()];
      for (const group of body.filterGroups ?? []) {
        for (const f of group.filters) {
          const value = (o: Obj) => Date.parse(o.properties[f.propertyName] ?? '');
          if (f.operator === 'GTE') all = all.filter((o) => value(o) >= Number(f.value));
          else if (f.operator === 'GT') all = all.filter((o) => value(o) > Number(f.value));
          else return [400, { status: 'error', message: `operator ${f.operator} not supported by the fake` }];
        }
      }
      const sort = body.sorts?.[0];
      if (sort) all.sort((a, b) => (a.properties[sort.propertyName] ?? '').localeCompare(b.properties[sort.propertyName] ?? '') * (sort.direction === 'DESCENDING' ? -1 : 1));
      const limit = Math.min(body.limit ?? 10, 200);
      const offset = Number(body.after ?? 0);
      const more = offset + limit < all.length;
      return [200, { total: all.length, results: all.slice(offset, offset + limit).map((o) => view(type, o, body.properties)), ...(more ? { paging: { next: { after: String(offset + limit) } } } : {}) }];
    }
    if (method === 'POST' && (m = p.match(/^\/crm\/v3\/objects\/(companies|contacts|deals)\/batch\/(read|update|upsert)$/))) {
      const type = m[1] as HsType;
      const op = m[2];
      if (!Array.isArray(body?.inputs) || body.inputs.length > 100) return [400, { status: 'error', message: 'inputs must be an array of at most 100', category: 'VALIDATION_ERROR' }];
      if (op === 'read') return [200, { status: 'COMPLETE', results: body.inputs.map((i: { id: string }) => objects[type].get(i.id)).filter(Boolean).map((o: Obj) => view(type, o, body.properties)) }];
      if (op === 'update') {
        const missing = body.inputs.find((i: { id: string }) => !objects[type].has(i.id));
        if (missing) return [400, { status: 'error', message: `Object ${missing.id} not found` }];
        return [200, { status: 'COMPLETE', results: body.inputs.map((i: { id: string; properties: Props }) => view(type, write(type, i.id, i.properties))) }];
      }
      const results = body.inputs.map((i: { id: string; idProperty: string; properties: Props }) => {
        if (!i.idProperty) throw new Error('idProperty missing');
        const match = [...objects[type].values()].find((o) => (o.properties[i.idProperty] ?? '').toLowerCase() === i.id.toLowerCase());
        const out = write(type, match?.id ?? null, { ...i.properties, [i.idProperty]: i.id });
        return { ...view(type, out), new: out.new };
      });
      return [200, { status: 'COMPLETE', results }];
    }
    if (method === 'POST' && (m = p.match(/^\/crm\/v4\/associations\/(companies|contacts|deals)\/(companies|contacts|deals)\/batch\/(read|create|archive)$/))) {
      const [from, to, op] = [m[1] as HsType, m[2] as HsType, m[3]];
      if (op === 'read') {
        const results = body.inputs
          .map((i: { id: string }) => ({ from: { id: i.id }, to: [...(assoc.get(`${from}:${i.id}:${to}`) ?? new Map()).entries()].map(([id, typeId]) => ({ toObjectId: Number(id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId, label: PRIMARY.includes(typeId) ? 'Primary' : null }] })) }))
          .filter((r: { to: unknown[] }) => r.to.length > 0);
        return [200, { status: 'COMPLETE', results }];
      }
      if (op === 'create') {
        const bad = body.inputs.flatMap((i: any) => i.types).find((t: any) => t?.associationCategory !== 'HUBSPOT_DEFINED' || !(ASSOCIATION_TYPES[`${from}:${to}`] ?? []).includes(t.associationTypeId));
        if (bad) return [400, { status: 'error', message: `Invalid association type ${JSON.stringify(bad)} for ${from} to ${to}`, category: 'VALIDATION_ERROR' }];
        for (const i of body.inputs) link(from, String(i.from.id), to, String(i.to.id), i.types[0].associationTypeId);
        return [201, { status: 'COMPLETE', results: body.inputs.map((i: any) => ({ fromObjectId: Number(i.from.id), toObjectId: Number(i.to.id), labels: [] })) }];
      }
      for (const i of body.inputs) for (const t of i.to) unlink(from, String(i.from.id), to, String(t.id));
      return [204, undefined];
    }
    return [404, { status: 'error', message: `No route ${method} ${p} in the fake` }];
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const body = await readBody(req);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      log.push({ method: req.method!, path: url.pathname + url.search, status, body });
      res.writeHead(status, { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' });
    }
    if (throttle.remaining > 0) {
      throttle.remaining--;
      return send(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': throttle.retryAfter, 'x-hubspot-ratelimit-remaining': '0' });
    }
    try {
      const [status, payload] = route(req.method!, url, body);
      send(status, payload);
    } catch (e) {
      send(400, { status: 'error', message: (e as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    baseUrl,
    log,
    objects,
    /** The next `n` requests get a 429 with this Retry-After (seconds). */
    throttleNext(n: number, retryAfter = '1') {
      throttle = { remaining: n, retryAfter };
    },
    setToken(t: string) {
      token = t;
    },
    seed: (type: HsType, props: Props) => write(type, null, props).id,
    edit: (type: HsType, id: string, props: Props) => void write(type, id, props),
    get: (type: HsType, id: string) => objects[type].get(id),
    find: (type: HsType, prop: string, value: string) => [...objects[type].values()].find((o) => o.properties[prop] === value),
    associate: (from: HsType, fromId: string, to: HsType, toId: string, typeId: number) => link(from, fromId, to, toId, typeId),
    associations: (from: HsType, fromId: string, to: HsType) => [...(assoc.get(`${from}:${fromId}:${to}`) ?? new Map()).entries()],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export type FakeHubSpot = Awaited<ReturnType<typeof startFakeHubSpot>>;
