// Where a CPU profile's time goes: `node bench/profile-summary.ts <file.cpuprofile> [top] [--last S]`.
// Self and inclusive time by package / source file and by function, idle time excluded.
// --last S: only the samples of the profile's last S seconds (e.g. a measured run after its warm-up).
// --stalls MS: also list where the event loop was held MS or more: stretches of work that did not return to
// idle (what ran in them), and gaps between samples (the thread was not running: it waited for a core).
// Profiles come from `npm run bench -- overhead --profile` (bench/results/profiles/).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { last: { type: 'string' }, stalls: { type: 'string' } } });
const [file, topArg] = positionals;
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top] [--last S] [--stalls MS]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const endUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
const fromUs = values.last === undefined ? 0 : endUs - Number(values.last) * 1e6;
let atUs = 0;
profile.samples.forEach((id, i) => {
  atUs += profile.timeDeltas[i] ?? 0;
  if (atUs >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const src = /\/(src|bench)\/(.+)$/.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
}

const areas = new Map<string, number>();
const fns = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const { functionName, url, lineNumber } = n.callFrame;
  if (functionName === '(idle)') continue;
  total += us;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const f = `${functionName || '(anonymous)'}  ${a}:${lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (busy ${(total / 1e6).toFixed(2)} s)\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}\n`);
};
// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}  ${area(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
// Inclusive time by package / file: a sample counts once for every area on its stack
// (what a package costs with everything it calls, e.g. kysely including pg).
const inclusiveAreas = new Map<string, number>();
for (const [id, us] of selfUs) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const { url, functionName } = byId.get(cur)!.callFrame;
    const a = area(url, functionName);
    if (seen.has(a) || a === '(root)') continue;
    seen.add(a);
    inclusiveAreas.set(a, (inclusiveAreas.get(a) ?? 0) + us);
  }
}
show('Self time by package / file', areas);
show('Inclusive time by package / file', inclusiveAreas);
show('Self time by function', fns);
show('Inclusive time by function', new Map([...inclusive].filter(([k]) => !k.startsWith('(root)'))));

if (values.stalls !== undefined) {
  const minUs = Number(values.stalls) * 1000;
  const fn = (id: number) => keyOf(byId.get(id)!);
  const lines: string[] = [];
  let gaps = 0;
  let busyFrom = -1;
  let busyMs = new Map<string, number>();
  let t = 0;
  const closeBusy = (atUs: number) => {
    if (busyFrom >= 0 && atUs - busyFrom >= minUs) {
      const what = [...busyMs].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, us]) => `${k} ${(us / 1000).toFixed(0)} ms`).join('; ');
      lines.push(`  at ${((busyFrom - fromUs) / 1e6).toFixed(2)} s: busy ${((atUs - busyFrom) / 1000).toFixed(0)} ms without idle: ${what}`);
    }
    busyFrom = -1;
    busyMs = new Map();
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs) return;
    if (dt >= minUs) {
      gaps++;
      lines.push(`  at ${((t - dt - fromUs) / 1e6).toFixed(2)} s: no sample for ${(dt / 1000).toFixed(0)} ms (the thread not running), then ${fn(id)}`);
    }
    if (byId.get(id)!.callFrame.functionName === '(idle)') return closeBusy(t);
    if (busyFrom < 0) busyFrom = t - dt;
    busyMs.set(fn(id), (busyMs.get(fn(id)) ?? 0) + dt);
  });
  closeBusy(t);
  process.stdout.write(`\nStalls of ${values.stalls} ms or more (${lines.length - gaps} busy stretches, ${gaps} gaps; times from the window's start)\n${lines.join('\n')}\n`);
}
