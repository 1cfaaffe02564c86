// What the database's busy backends were doing through a run: pg_stat_activity sampled
// every 100 ms. An active backend with no wait event is on a CPU or waiting for one;
// otherwise it waits on I/O, a lock or the client. It tells a slow PostgreSQL stretch
// that is short of CPU from one that waits (the scaling benchmark's 10,000-tenant windows
// whose pool waits rose with neither steal nor a saturated machine). On a saturated machine
// it undercounts: the sampler runs when it gets a core, most often when the backends are idle.
import type pg from 'pg';

export interface WaitProfile {
  /** Snapshots taken. */
  samples: number;
  /** Active client backends seen, summed over the snapshots (÷ samples: the mean number busy). */
  active: number;
  /** Active backends by wait event (`type:event`, or `CPU` when none), summed over the snapshots. */
  byEvent: Record<string, number>;
}

const CPU = 'CPU';

/** Starts sampling; the returned function stops and returns the profile. One query at a time, on `pool`. */
export function sampleWaits(pool: pg.Pool, database: string, everyMs = 100): () => Promise<WaitProfile> {
  const profile: WaitProfile = { samples: 0, active: 0, byEvent: {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const rows = await pool
        .query<{ event: string | null }>(
          "select wait_event_type || ':' || wait_event as event from pg_stat_activity where datname = $1 and backend_type = 'client backend' and state = 'active' and pid <> pg_backend_pid()",
          [database],
        )
        .then((r) => r.rows)
        .catch(() => undefined); // the database going away ends the sampling, not the run
      if (!rows) break;
      addSnapshot(profile, rows.map((r) => r.event));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return profile;
  };
}

/** Adds one snapshot: the wait event of each active backend (null: none). */
export function addSnapshot(profile: WaitProfile, events: Array<string | null>): void {
  profile.samples++;
  profile.active += events.length;
  for (const e of events) profile.byEvent[e ?? CPU] = (profile.byEvent[e ?? CPU] ?? 0) + 1;
}

/** Several runs' profiles as one. */
export function mergeWaits(profiles: WaitProfile[]): WaitProfile {
  const merged: WaitProfile = { samples: 0, active: 0, byEvent: {} };
  for (const p of profiles) {
    merged.samples += p.samples;
    merged.active += p.active;
    for (const [e, n] of Object.entries(p.byEvent)) merged.byEvent[e] = (merged.byEvent[e] ?? 0) + n;
  }
  return merged;
}

/** "PG busy 0.84 backends: CPU 81%, IO:DataFileRead 12%, LWLock:BufferMapping 4%" (the `top` largest shares). */
export function formatWaits(p: WaitProfile, top = 3): string {
  if (p.samples === 0) return 'PG busy: no samples';
  const shares = Object.entries(p.byEvent)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([e, n]) => `${e} ${((n / Math.max(1, p.active)) * 100).toFixed(0)}%`);
  return `PG busy ${(p.active / p.samples).toFixed(2)} backends${shares.length ? `: ${shares.join(', ')}` : ''}`;
}
