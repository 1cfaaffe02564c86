import type { Kysely } from 'kysely';
import type { PublicDatabase, Role } from '../../platform/db/public-tables.ts';
import type { PublicContext, RequestContext } from '../../platform/context.ts';
import type { TokenService } from '../../platform/auth/tokens.ts';
import { hashPassword, verifyPassword } from '../../platform/auth/passwords.ts';
import { AppError } from '../../platform/errors.ts';
import * as repo from './repository.ts';

export interface IdentityDeps {
  db: Kysely<PublicDatabase>;
  tokens: TokenService;
}

export function createIdentityService({ db, tokens }: IdentityDeps) {
  return {
    /**
     * Email + password login into the request's tenant. Unknown email, wrong
     * password, disabled account and "not a member of this tenant" all get
     * the same answer, after the same amount of hashing work.
     */
    async login(ctx: PublicContext, input: { email: string; password: string }) {
      const account = await repo.findAccountByEmail(db, input.email.trim());
      const passwordOk = await verifyPassword(account?.passwordHash, input.password);
      const membership = account && passwordOk ? await repo.findMembership(db, ctx.tenant.id, account.id) : undefined;
      if (!account || !passwordOk || account.status !== 'active' || !membership) throw new AppError('invalid_credentials');
      return tokens.issue({ accountId: account.id, tenantId: ctx.tenant.id });
    },

    async me(ctx: RequestContext) {
      const account = await repo.findAccountById(db, ctx.actor.accountId);
      if (!account) throw new AppError('invalid_token', 'The account of this token no longer exists');
      return {
        account: { id: account.id, email: account.email, displayName: account.displayName },
        tenant: { id: ctx.tenant.id, slug: ctx.tenant.slug, displayName: ctx.tenant.displayName },
        role: ctx.actor.role,
        permissions: [...ctx.actor.permissions].sort(),
      };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

/**
 * Creates (or finds) an account and makes it a member of a tenant with a
 * role. Used by provisioning (the owner), the demo seed and the tests; the
 * invitation flow of the identity issue will build on it.
 */
export async function ensureMember(
  db: Kysely<PublicDatabase>,
  input: { tenantId: string; email: string; displayName: string; password: string; role: Role },
) {
  const existing = await repo.findAccountByEmail(db, input.email);
  const account = existing ?? (await repo.insertAccount(db, { email: input.email, displayName: input.displayName, passwordHash: await hashPassword(input.password) }));
  await repo.insertMembership(db, { tenantId: input.tenantId, accountId: account.id, role: input.role });
  return account;
}
