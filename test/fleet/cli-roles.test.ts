// `plinth roles list|grant|revoke --tenant` and `plinth users reset-mfa`
// through the real CLI entry point, against the test database; the API of a
// running app sees the changes.
import { sql } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTenant, expectProblem, startApp, type Harness, type TestTenant } from '../helpers.ts';
import { plinth } from './cli.ts';

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startApp();
  t = await createTenant(h, 'cr');
});
afterAll(() => h?.close());

const audit = async (targetId: string) =>
  (await sql<{ action: string; actor_id: string | null }>`select action, actor_id from ${sql.id(t.tenant.schemaName, 'audit_log')} where target_id = ${targetId} order by seq`.execute(h.db.withoutPlugins())).rows;

describe('plinth roles', () => {
  it('lists the roles of a tenant (text and --json)', async () => {
    const run = await plinth(['roles', 'list', '--tenant', t.slug, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const roles = run.json<Array<{ key: string; memberCount: number; permissions: Array<{ key: string; scope: string }> }>>();
    expect(roles.map((r) => r.key)).toEqual(['owner', 'admin', 'manager', 'member', 'viewer']);
    expect(roles.find((r) => r.key === 'manager')!.permissions).toContainEqual({ key: 'crm.contacts.read', scope: 'team' });
    const text = await plinth(['roles', 'list', '--tenant', t.slug]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KEY\s+NAME\s+SYSTEM\s+MEMBERS\s+PERMISSIONS/);
    expect(text.stdout).toContain('crm.contacts.read:team');
  });

  it('grants and revokes a permission (audited, no actor); the API applies it', async () => {
    const post = () => as(h, t, 'viewer')({ method: 'POST', url: '/v1/contacts', payload: { firstName: 'Ada' } });
    expectProblem(await post(), 403, 'permission_denied');
    const grant = await plinth(['roles', 'grant', 'viewer', 'crm.contacts.write', '--tenant', t.slug, '--json']);
    expect(grant.code, grant.stderr).toBe(0);
    const role = grant.json<{ id: string; key: string; permissions: Array<{ key: string }> }>();
    expect(role.permissions.map((p) => p.key)).toContain('crm.contacts.write');
    expect((await post()).statusCode).toBe(201);
    const revoke = await plinth(['roles', 'revoke', 'viewer', 'crm.contacts.write', '--tenant', t.slug]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toContain('no longer grants crm.contacts.write');
    expectProblem(await post(), 403, 'permission_denied');
    expect(await audit(role.id)).toEqual([
      { action: 'identity.role.updated', actor_id: null },
      { action: 'identity.role.updated', actor_id: null },
    ]);
  });

  it('grants with a scope on record permissions only', async () => {
    const ok = await plinth(['roles', 'grant', 'member', 'crm.contacts.read', '--scope', 'own', '--tenant', t.slug, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json<{ permissions: object[] }>().permissions).toContainEqual({ key: 'crm.contacts.read', scope: 'own' });
    const bad = await plinth(['roles', 'grant', 'member', 'identity.me.read', '--scope', 'team', '--tenant', t.slug]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('scope is always "all"');
    expect((await plinth(['roles', 'grant', 'member', 'crm.contacts.read', '--scope', 'most', '--tenant', t.slug])).code).toBe(2);
  });

  it('clear errors: unknown permission or role (2), unknown tenant (1), the owner role (1), no --tenant (2)', async () => {
    const unknownPermission = await plinth(['roles', 'grant', 'viewer', 'nope.nope.nope', '--tenant', t.slug]);
    expect(unknownPermission.code).toBe(2);
    expect(unknownPermission.stderr).toContain('not a registered permission');
    const unknownRole = await plinth(['roles', 'revoke', 'ghost', 'identity.me.read', '--tenant', t.slug]);
    expect(unknownRole.code).toBe(2);
    expect(unknownRole.stderr).toContain('has no role "ghost"');
    const unknownTenant = await plinth(['roles', 'list', '--tenant', 'no-such-tenant-x']);
    expect(unknownTenant.code).toBe(1);
    expect(unknownTenant.stderr).toContain('No tenant "no-such-tenant-x"');
    const owner = await plinth(['roles', 'revoke', 'owner', 'identity.me.read', '--tenant', t.slug, '--json']);
    expect(owner.code).toBe(1);
    expect(owner.stderr).toContain('role_protected');
    expect((await plinth(['roles', 'list'])).code).toBe(2);
  });
});

describe('plinth users reset-mfa', () => {
  it("turns off an account's MFA, audited in its tenants", async () => {
    const member = as(h, t, 'member');
    const { secret } = (await member({ method: 'POST', url: '/v1/auth/mfa/totp' })).json() as { secret: string };
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    expect((await member({ method: 'POST', url: '/v1/auth/mfa/totp/confirm', payload: { code } })).statusCode).toBe(200);
    expect((await member({ method: 'GET', url: '/v1/auth/mfa' })).json()).toMatchObject({ enabled: true });

    const run = await plinth(['users', 'reset-mfa', t.accounts.member.email.toUpperCase(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ accountId: t.accounts.member.id, mfaWasEnabled: true, auditedIn: [t.slug] });
    expect((await member({ method: 'GET', url: '/v1/auth/mfa' })).json()).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    expect((await audit(t.accounts.member.id)).map((r) => r.action)).toContain('auth.mfa.reset');

    const again = await plinth(['users', 'reset-mfa', t.accounts.member.email]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('MFA was not on');
  });

  it('exits 1 for an unknown account and 2 for a malformed email', async () => {
    const unknown = await plinth(['users', 'reset-mfa', 'nobody-here@example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account');
    expect((await plinth(['users', 'reset-mfa', 'not-an-email'])).code).toBe(2);
  });
});
