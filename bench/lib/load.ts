// Runs load against a server from a separate process: wrk when it is
// installed (written in C, it leaves more of the 2 cores to the server),
// autocannon otherwise. Every run is bounded in time and in request count,
// and targets loopback only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadPlan {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Per-request header variants used round-robin (one entry: fixed headers). */
  headerSets: Array<Record<string, string>>;
  /** The variant the rotation starts at (wrk only; autocannon starts at the first). */
  startAt?: number;
  body?: string;
  connections: number;
  durationS: number;
  maxRequests: number;
  /** Send at this many requests a second in all, on a fixed schedule (unset: each connection sends again as soon as it has its answer). */
  ratePerS?: number;
  /** Also report the latency's upper tail (LoadResult.tailUs; wrk only), so that several runs' percentiles can be pooled. */
  tail?: boolean;
}

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  /** 2xx responses per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** With LoadPlan.tail: the latency in µs at TAIL_FROM_PERCENT, then every TAIL_STEP_PERCENT up to 100 (the max). */
  tailUs?: number[];
}

export const TAIL_FROM_PERCENT = 80;
export const TAIL_STEP_PERCENT = 0.02;

/**
 * The p-th percentile (p ≥ TAIL_FROM_PERCENT) of several runs' latencies together, from each run's tail. A run's
 * share of requests at or under a value is read off its tail as the highest percentile there at or under it (a
 * lower bound, 0 below the tail's start), so the pooled percentile errs high, never low.
 */
export function pooledPercentileMs(runs: Array<Pick<LoadResult, 'requests' | 'tailUs'>>, p: number): number {
  const total = runs.reduce((n, r) => n + r.requests, 0);
  const candidates = [...new Set(runs.flatMap((r) => r.tailUs ?? []))].sort((a, b) => a - b);
  // Each run's last tail index at or under the candidate: candidates rise, so each only moves forward.
  const last = runs.map(() => -1);
  for (const v of candidates) {
    let under = 0;
    runs.forEach((r, i) => {
      const tail = r.tailUs!;
      while (last[i]! + 1 < tail.length && tail[last[i]! + 1]! <= v) last[i]!++;
      if (last[i]! >= 0) under += (r.requests * (TAIL_FROM_PERCENT + last[i]! * TAIL_STEP_PERCENT)) / 100;
    });
    if (under >= (p / 100) * total - 1e-6) return v / 1000;
  }
  return (candidates.at(-1) ?? 0) / 1000;
}

export type LoadTool = 'wrk' | 'autocannon';

export function defaultLoadTool(): LoadTool {
  return spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';
}

function assertLoopback(url: string) {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`load only targets loopback, not ${host}`);
}

function runChild(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${err.trim().slice(-500)}`));
    });
  });
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const luaTable = (h: Record<string, string>) => `{${Object.entries(h).map(([k, v]) => `[${luaString(k)}]=${luaString(v)}`).join(',')}}`;

// A fixed schedule for wrk, which has none of its own (wrk2 has, but is not
// packaged): the request k of the run goes out at start + k / rate. Before
// each request wrk asks delay() how many ms to wait; the connection takes the
// next slot of the schedule. With more connections than requests in flight,
// every request leaves at its slot and the latency wrk measures from the send
// is the whole latency; a server that falls behind leaves the slots late
// (sent at once, the rate achieved below the one asked: the result says so).
// The clock is CLOCK_MONOTONIC through LuaJIT's FFI (wrk's Lua has none).
function wrkPacing(ratePerS: number): string {
  return `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } plinth_timespec; int clock_gettime(int, plinth_timespec*); ]]
local ts = ffi.new("plinth_timespec")
local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local interval, slot = ${1000 / ratePerS}, nil
delay = function()
  local t = now_ms()
  if not slot then slot = t end
  local wait = slot - t
  slot = slot + interval
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end`;
}

// wrk has no request cap, so the script stops its thread after its share of
// maxRequests, and reports percentiles as JSON from done().
function wrkScript(plan: LoadPlan): string {
  const variants = plan.headerSets.map((h) => luaTable({ ...plan.headers, ...h }));
  return `
local variants = {${variants.join(',\n')}}
local body = ${plan.body === undefined ? 'nil' : luaString(plan.body)}
local n, i, cap = 0, ${(plan.startAt ?? 0) % Math.max(1, variants.length)}, ${plan.maxRequests}
local fixed = nil
-- wrk.host (the Host header) is only known from init() on.
init = function()
  if #variants == 1 then fixed = wrk.format(${luaString(plan.method)}, ${luaString(plan.path)}, variants[1], body) end
end
request = function()
  if fixed then return fixed end
  i = i % #variants + 1
  return wrk.format(${luaString(plan.method)}, ${luaString(plan.path)}, variants[i], body)
end
response = function(status)
  n = n + 1
  if n >= cap then wrk.thread:stop() end
end
${plan.ratePerS ? wrkPacing(plan.ratePerS) : ''}
done = function(s, latency)
  local e = s.errors
  local tail = {}
  ${plan.tail ? `for k = 0, ${Math.round((100 - TAIL_FROM_PERCENT) / TAIL_STEP_PERCENT) - 1} do tail[#tail + 1] = string.format('%d', latency:percentile(${TAIL_FROM_PERCENT} + k * ${TAIL_STEP_PERCENT})) end
  tail[#tail + 1] = string.format('%d', latency.max) -- percentile(100) asks for a rank past the last request` : ''}
  io.write(string.format('{"requests":%d,"durationUs":%d,"non2xx":%d,"errors":%d,"p50Us":%d,"p99Us":%d,"tailUs":[%s]}\\n',
    s.requests, s.duration, e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), table.concat(tail, ',')))
end
`;
}

export async function runLoad(plan: LoadPlan, tool: LoadTool): Promise<LoadResult> {
  assertLoopback(plan.url);
  const dir = mkdtempSync(join(tmpdir(), 'plinth-load-'));
  const timeoutMs = (plan.durationS + 30) * 1000;
  try {
    if (tool === 'wrk') {
      const script = join(dir, 'plan.lua');
      writeFileSync(script, wrkScript(plan));
      const out = await runChild('wrk', ['-t1', `-c${plan.connections}`, `-d${plan.durationS}s`, '--timeout', '10s', '-s', script, new URL(plan.path, plan.url).href], timeoutMs);
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (!line) throw new Error(`wrk printed no result: ${out.slice(-500)}`);
      const r = JSON.parse(line) as { requests: number; durationUs: number; non2xx: number; errors: number; p50Us: number; p99Us: number; tailUs: number[] };
      const durationS = r.durationUs / 1e6;
      const ok = r.requests - r.non2xx;
      return { tool, requests: r.requests, ok, non2xx: r.non2xx, errors: r.errors, durationS, rps: ok / durationS, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, ...(plan.tail && { tailUs: r.tailUs }) };
    }
    const file = join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify(plan));
    const out = await runChild(process.execPath, [join(import.meta.dirname, '..', 'load', 'autocannon.ts'), file], timeoutMs);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Omit<LoadResult, 'tool' | 'rps'>;
    return { tool, ...r, rps: r.ok / r.durationS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
