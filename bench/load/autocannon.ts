// The load generator process (autocannon): reads a plan from the JSON file
// named in argv[2], runs it against loopback and prints one JSON result line.
// Runs as its own process so its CPU is not the server's.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { LoadPlan } from '../lib/load.ts';

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadPlan;
let next = 0;
const variants = plan.headerSets;

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  duration: plan.durationS,
  maxOverallRequests: plan.maxRequests,
  timeout: 10,
  ...(plan.ratePerS ? { overallRate: plan.ratePerS } : {}),
  requests: [
    {
      method: plan.method,
      path: plan.path,
      body: plan.body,
      headers: { ...plan.headers, ...(variants.length === 1 ? variants[0] : {}) },
      // Spread requests over several identities (tenants) round-robin.
      ...(variants.length > 1
        ? { setupRequest: (req: autocannon.Request) => ({ ...req, headers: { ...req.headers, ...variants[next++ % variants.length] } }) }
        : {}),
    },
  ],
});

const ok = result['2xx'];
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  })}\n`,
);
