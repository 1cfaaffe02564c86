// The per-field decision and the value normal form (pure functions).
import { describe, expect, it } from 'vitest';
import { decide, fromHubSpot, normalise, ruleFor, toHubSpot } from './mapping.ts';

describe('decide (three-way, per field)', () => {
  it('lets the side that changed win, whatever the rule, unless the rule names a side', () => {
    expect(decide('manual', 'a', 'a', 'b', false)).toEqual({ take: 'hubspot' });
    expect(decide('manual', 'a', 'b', 'a', false)).toEqual({ take: 'plinth' });
    expect(decide('manual', 'a', 'b', 'b', false)).toEqual({ take: 'agree' });
    expect(decide('hubspot', 'a', 'b', 'a', true)).toEqual({ take: 'hubspot' });
    expect(decide('plinth', 'a', 'a', 'b', false)).toEqual({ take: 'plinth' });
    // HubSpot owns the field but never had a value for the record: Plinth's stays.
    expect(decide('hubspot', undefined, 'Chemicals', null, false)).toEqual({ take: 'keep' });
    expect(decide('hubspot', null, 'Chemicals', null, false)).toEqual({ take: 'hubspot' });
  });

  it('settles a field both sides changed by the newer record under newest, else a conflict', () => {
    expect(decide('newest', 'a', 'b', 'c', true)).toEqual({ take: 'plinth' });
    expect(decide('newest', 'a', 'b', 'c', false)).toEqual({ take: 'hubspot' });
    expect(decide('manual', 'a', 'b', 'c', true)).toEqual({ take: 'conflict' });
    // Never synced (no base) and different: both count as changed.
    expect(decide('manual', undefined, 'b', 'c', true)).toEqual({ take: 'conflict' });
  });

  it('defaults to manual, except the company industry that HubSpot owns', () => {
    expect(ruleFor({}, 'contact', 'email')).toBe('manual');
    expect(ruleFor({}, 'company', 'industry')).toBe('hubspot');
    expect(ruleFor({ company: { industry: 'plinth' } }, 'company', 'industry')).toBe('plinth');
  });
});

describe('normal form', () => {
  it('makes a HubSpot round trip look like no change', () => {
    expect(fromHubSpot('company', { name: ' Acme ', domain: 'https://www.Acme.example/about', numberofemployees: '12', industry: '', address: null })).toEqual({ name: 'Acme', domain: 'acme.example', employees: 12, industry: null, address: null });
    expect(fromHubSpot('deal', { dealname: 'X', amount: '1200.5', deal_currency_code: 'eur', closedate: '1767225600000' })).toEqual({ name: 'X', amount: '1200.50', currency: 'EUR', closeDate: '2026-01-01' });
    expect(fromHubSpot('contact', { email: 'Jane@Example.COM' }).email).toBe('jane@example.com');
    expect(toHubSpot('deal', { closeDate: '2026-01-01', amount: null })).toEqual({ closedate: '2026-01-01T00:00:00.000Z', amount: null });
    expect(normalise.date('not a date')).toBeNull();
  });
});
