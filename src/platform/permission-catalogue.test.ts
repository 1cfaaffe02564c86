// The registry in code is copied to public.permissions (module, resource,
// action, description); keys no longer registered disappear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Harness } from '../../test/helpers.ts';
import { syncPermissionCatalogue } from './permission-catalogue.ts';
import { createPermissionRegistry } from './permissions.ts';
import { modules } from '../modules/index.ts';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(() => h?.close());

const full = () => createPermissionRegistry(modules.flatMap((m) => (m.permissions ?? []).map((p) => ({ ...p, module: m.name }))));

describe('permission catalogue', () => {
  it('writes every registered permission, updates changed ones and removes retired ones', async () => {
    const registry = full();
    await syncPermissionCatalogue(h.db, registry);
    const rows = await h.db.selectFrom('permissions').selectAll().orderBy('key').execute();
    expect(rows.map((r) => r.key)).toEqual(registry.all().map((p) => p.key).sort());
    expect(rows.find((r) => r.key === 'crm.contacts.read')).toMatchObject({ module: 'contacts', resource: 'contacts', action: 'read', description: 'List and view contacts', recordScope: true });
    expect(rows.find((r) => r.key === 'identity.roles.manage')).toMatchObject({ module: 'identity', recordScope: false });

    const smaller = createPermissionRegistry([...registry.all().filter((p) => p.key !== 'identity.me.read'), { key: 'test.catalogue.extra', description: 'x', roles: [], module: 'test' }]);
    const result = await syncPermissionCatalogue(h.db, smaller);
    expect(result.removed).toBe(1);
    const keys = (await h.db.selectFrom('permissions').select('key').execute()).map((r) => r.key);
    expect(keys).not.toContain('identity.me.read');
    expect(keys).toContain('test.catalogue.extra');

    await syncPermissionCatalogue(h.db, registry);
    expect(await h.db.selectFrom('permissions').select('key').where('key', '=', 'test.catalogue.extra').executeTakeFirst()).toBeUndefined();
  });
});
