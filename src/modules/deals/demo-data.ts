// CRM data of the demo tenant (src/demo/seed.ts): companies, deals spread
// over the default pipeline with a stage history going back weeks (so the
// reports have something to show), and activities linked to them.
import { v7 as uuidv7 } from 'uuid';
import type { TenantDb } from '../../platform/context.ts';
import type { ActivitiesTables, ActivityType } from '../activities/tables.ts';

const DAY = 86_400_000;

const COMPANIES = [
  { name: 'Analytical Engines Ltd', domain: 'analytical.example', industry: 'Hardware', employees: 120, address: '12 Marylebone Rd, London' },
  { name: 'US Navy Computing Lab', domain: 'navy.example', industry: 'Government', employees: 4000, address: 'Arlington, VA' },
  { name: 'Bletchley Park Trust', domain: 'bletchley.example', industry: 'Research', employees: 60, address: 'Milton Keynes' },
  { name: 'NASA Langley', domain: 'nasa.example', industry: 'Aerospace', employees: 3400, address: 'Hampton, VA' },
];

// [name, company index, amount, days ago created, stages entered (by name) every few days]
const DEALS: Array<[string, number, string, number, string[]]> = [
  ['Difference engine maintenance', 0, '48000.00', 60, ['Qualification', 'Discovery', 'Proposal', 'Negotiation', 'Closed won']],
  ['Analytical engine pilot', 0, '125000.00', 40, ['Qualification', 'Discovery', 'Proposal']],
  ['COBOL training programme', 1, '36000.00', 35, ['Qualification', 'Discovery', 'Proposal', 'Negotiation']],
  ['Compiler licences', 1, '18500.00', 20, ['Qualification', 'Discovery']],
  ['Bombe refurbishment', 2, '22000.00', 50, ['Qualification', 'Discovery', 'Closed lost']],
  ['Enigma archive digitisation', 2, '9500.00', 10, ['Qualification']],
  ['Trajectory analysis suite', 3, '210000.00', 45, ['Qualification', 'Discovery', 'Proposal', 'Negotiation', 'Closed won']],
  ['Orbital mechanics workshop', 3, '7800.00', 5, ['Qualification']],
];

export async function seedCrmDemo(tenantDb: TenantDb, ownerId: string, contactIdsByEmail: Record<string, string>): Promise<void> {
  const db = tenantDb.withTables<ActivitiesTables>();
  const now = Date.now();
  const audit = { ownerId, createdBy: ownerId, updatedBy: ownerId };
  const companyIds: string[] = [];
  for (const [i, c] of COMPANIES.entries()) {
    const at = new Date(now - (70 - i) * DAY);
    const id = uuidv7();
    companyIds.push(id);
    await db.insertInto('companies').values({ id, ...c, ...audit, custom: '{}', createdAt: at, updatedAt: at, deletedAt: null }).execute();
  }
  const pipeline = await db.selectFrom('pipelines').select('id').where('isDefault', '=', true).executeTakeFirstOrThrow();
  const stages = await db.selectFrom('pipelineStages').select(['id', 'name']).where('pipelineId', '=', pipeline.id).execute();
  const stageId = (name: string) => stages.find((s) => s.name === name)!.id;
  const contactOf = [contactIdsByEmail['ada@analytical.example'], contactIdsByEmail['grace@navy.example'], contactIdsByEmail['alan@bletchley.example'], contactIdsByEmail['katherine@nasa.example']];
  // Each sample person works at the company their deals are with.
  for (const [i, contactId] of contactOf.entries()) if (contactId) await db.updateTable('contacts').set({ companyId: companyIds[i]! }).where('id', '=', contactId).execute();

  for (const [name, company, amount, daysAgo, path] of DEALS) {
    const id = uuidv7();
    const created = new Date(now - daysAgo * DAY);
    const step = Math.max(1, Math.floor(daysAgo / (path.length + 1)));
    const entered = path.map((_, i) => new Date(created.getTime() + i * step * DAY));
    const last = entered.at(-1)!;
    await db
      .insertInto('deals')
      .values({
        id, name, amount, currency: 'USD', closeDate: new Date(now + 30 * DAY).toISOString().slice(0, 10),
        pipelineId: pipeline.id, stageId: stageId(path.at(-1)!), stageChangedAt: last, companyId: companyIds[company]!, custom: '{}',
        ...audit, createdAt: created, updatedAt: last, deletedAt: null,
      })
      .execute();
    const contactId = contactOf[company];
    if (contactId) await db.insertInto('dealContacts').values({ dealId: id, contactId }).execute();
    for (const [i, s] of path.entries()) {
      await db.insertInto('dealStageHistory').values({ id: uuidv7(), dealId: id, fromStageId: i === 0 ? null : stageId(path[i - 1]!), toStageId: stageId(s), changedAt: entered[i]!, changedBy: ownerId }).execute();
    }
    await db.insertInto('recordChanges').values({ id: uuidv7(), recordType: 'deal', recordId: id, action: 'created', changes: '{}', changedBy: ownerId, changedAt: created }).execute();
    const activities: Array<[ActivityType, string, number]> = [
      ['call', `Discovery call: ${name}`, daysAgo - 1],
      ['note', `Notes from the first meeting about ${name.toLowerCase()}`, daysAgo - 2],
      ['task', `Send the proposal for ${name.toLowerCase()}`, -7],
    ];
    for (const [type, subject, ago] of activities) {
      const at = new Date(now - Math.max(ago, 0) * DAY);
      const activityId = uuidv7();
      await db
        .insertInto('activities')
        .values({
          id: activityId, type, subject, body: null, status: type === 'task' ? 'todo' : null, dueAt: type === 'task' ? new Date(now + 7 * DAY) : null,
          assigneeId: type === 'task' ? ownerId : null, completedAt: null, startsAt: type === 'call' ? at : null, durationMinutes: type === 'call' ? 30 : null,
          outcome: type === 'call' ? 'Interested' : null, location: null, occurredAt: at, ...audit, createdAt: at, updatedAt: at, deletedAt: null,
        })
        .execute();
      await db.insertInto('activityLinks').values([{ activityId, recordType: 'deal', recordId: id }, { activityId, recordType: 'company', recordId: companyIds[company]! }]).execute();
    }
  }
}
