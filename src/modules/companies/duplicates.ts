// Duplicate detection beyond exact match, explained: each candidate comes
// with the reasons it matched and a score. Companies: same normalised domain,
// same domain name under another suffix (acme.com / acme.co.uk), or a
// similar name once legal suffixes are dropped (pg_trgm). People: same
// normalised email (case, +tags, Gmail dots), same phone digits, or a
// similar full name. Raw SQL names its tables with the tenant schema (sql.id)
// because withSchema only qualifies tables of built queries.
import { sql, type Kysely } from 'kysely';
import { AppError } from '../../platform/errors.ts';

export interface Candidate {
  id: string;
  label: string;
  detail: string | null;
  score: number;
  reasons: string[];
}

// Legal-form words that make "Acme Inc." and "ACME Corporation" look different.
const LEGAL = `\\m(inc|incorporated|ltd|limited|llc|llp|gmbh|ag|sa|sas|sarl|bv|nv|plc|corp|corporation|co|company|group|holding|holdings)\\M\\.?`;
const normName = (expr: ReturnType<typeof sql>) => sql`btrim(regexp_replace(regexp_replace(lower(${expr}), ${LEGAL}, '', 'g'), '[^[:alnum:]]+', ' ', 'g'))`;
/** Local part without +tag (and without dots for Gmail), lower-cased, @ the domain. */
const normEmail = (expr: ReturnType<typeof sql>) => sql`(case when split_part(lower(${expr}), '@', 2) in ('gmail.com', 'googlemail.com')
    then replace(split_part(split_part(lower(${expr}), '@', 1), '+', 1), '.', '') || '@gmail.com'
    else split_part(split_part(lower(${expr}), '@', 1), '+', 1) || '@' || split_part(lower(${expr}), '@', 2) end)`;
const phoneDigits = (expr: ReturnType<typeof sql>) => sql`right(regexp_replace(${expr}, '[^0-9]', '', 'g'), 9)`;

const NAME_THRESHOLD = 0.5;

export async function companyDuplicates(db: Kysely<any>, schema: string, id: string, limit: number): Promise<Candidate[]> {
  const me = await db.selectFrom('companies').select(['id', 'name', 'domain']).where('id', '=', id).where('deletedAt', 'is', null).executeTakeFirst();
  if (!me) throw new AppError('not_found', 'No such company');
  const label = (d: string | null) => (d ? d.split('.')[0]! : null);
  const { rows } = await sql<{ id: string; name: string; domain: string | null; sameDomain: boolean; sameLabel: boolean; nameScore: number }>`
    select c.id, c.name, c.domain,
           coalesce(c.domain = ${me.domain}, false) as same_domain,
           coalesce(split_part(c.domain, '.', 1) = ${label(me.domain)} and c.domain <> ${me.domain}, false) as same_label,
           public.similarity(${normName(sql`c.name`)}, ${normName(sql`${me.name}::text`)})::float8 as name_score
    from ${sql.id(schema, 'companies')} c
    where c.deleted_at is null and c.id <> ${id}
      and (lower(c.name) operator(public.%) lower(${me.name}) or c.domain = ${me.domain} or split_part(c.domain, '.', 1) = ${label(me.domain)}
           or ${normName(sql`c.name`)} = ${normName(sql`${me.name}::text`)})`.execute(db);
  return rank(
    rows.map((r) => ({
      id: r.id,
      label: r.name,
      detail: r.domain,
      reasons: [...(r.sameDomain ? ['same_domain'] : []), ...(r.sameLabel ? ['same_domain_name'] : []), ...(r.nameScore >= NAME_THRESHOLD ? ['similar_name'] : [])],
      score: Math.max(r.sameDomain ? 1 : 0, r.sameLabel ? 0.8 : 0, r.nameScore >= NAME_THRESHOLD ? r.nameScore : 0),
    })),
    limit,
  );
}

export async function contactDuplicates(db: Kysely<any>, schema: string, id: string, limit: number): Promise<Candidate[]> {
  const me = await db.selectFrom('contacts').select(['id', 'firstName', 'lastName', 'email', 'phone']).where('id', '=', id).where('deletedAt', 'is', null).executeTakeFirst();
  if (!me) throw new AppError('not_found', 'No such contact');
  const fullName = `${me.firstName} ${me.lastName ?? ''}`.toLowerCase();
  const { rows } = await sql<{ id: string; firstName: string; lastName: string | null; email: string | null; sameEmail: boolean; samePhone: boolean; nameScore: number }>`
    select c.id, c.first_name, c.last_name, c.email,
           coalesce(${normEmail(sql`c.email`)} = ${normEmail(sql`${me.email}::text`)}, false) as same_email,
           coalesce(length(${phoneDigits(sql`c.phone`)}) >= 7 and ${phoneDigits(sql`c.phone`)} = ${phoneDigits(sql`${me.phone}::text`)}, false) as same_phone,
           public.similarity(lower(c.first_name || ' ' || coalesce(c.last_name, '')), ${fullName})::float8 as name_score
    from ${sql.id(schema, 'contacts')} c
    where c.deleted_at is null and c.id <> ${id}
      and (lower(c.first_name || ' ' || coalesce(c.last_name, '')) operator(public.%) ${fullName}
           or ${normEmail(sql`c.email`)} = ${normEmail(sql`${me.email}::text`)}
           or ${phoneDigits(sql`c.phone`)} = ${phoneDigits(sql`${me.phone}::text`)})`.execute(db);
  return rank(
    rows.map((r) => ({
      id: r.id,
      label: `${r.firstName} ${r.lastName ?? ''}`.trim(),
      detail: r.email,
      reasons: [...(r.sameEmail ? ['same_email'] : []), ...(r.samePhone ? ['same_phone'] : []), ...(r.nameScore >= 0.6 ? ['similar_name'] : [])],
      score: Math.max(r.sameEmail ? 1 : 0, r.samePhone ? 0.9 : 0, r.nameScore >= 0.6 ? r.nameScore : 0),
    })),
    limit,
  );
}

const rank = (cs: Candidate[], limit: number) =>
  cs
    .filter((c) => c.reasons.length > 0)
    .map((c) => ({ ...c, score: Math.round(c.score * 1000) / 1000 }))
    .sort((x, y) => y.score - x.score || x.id.localeCompare(y.id))
    .slice(0, limit);
