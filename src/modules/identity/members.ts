// Owners and assignees of CRM records must be members of the same tenant.
import type { RequestContext } from '../../platform/context.ts';
import type { Db } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { accountIsMember } from './repository.ts';

export async function assertMember(db: Db, ctx: RequestContext, accountId: string | null | undefined, pointer: string): Promise<void> {
  if (!accountId) return;
  // The caller's own membership was checked by the access guard for this request
  // (the default owner of a new record is the caller: one query less per write).
  if (accountId === ctx.actor.accountId) return;
  if (!(await accountIsMember(db, ctx.tenant.id, accountId))) {
    throw new AppError('invalid_reference', 'The account must be a member of this tenant', { errors: [{ in: 'body', pointer, detail: 'not a member of this tenant' }] });
  }
}
