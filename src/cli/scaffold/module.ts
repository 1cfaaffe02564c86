// `plinth make module <name>` and `plinth make permission <module> <key>`.
// Source edits are text insertions at anchors the project's files keep
// (the last import, the closing bracket of `modules`, the closing line of a
// permission list). Everything is checked before anything is written; an
// anchor that is missing gives a clear error and no file is touched.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { CliError, EXIT } from '../runtime.ts';
import { timestamp } from './migration.ts';
import { moduleFiles, moduleNames } from './module-files.ts';

const MODULE_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const AREA_RE = /^[a-z][a-z0-9]*$/;

/** Inserts `line` after the last `import ... ;` statement (single- or multi-line). */
export function addImport(source: string, line: string): string {
  const imports = [...source.matchAll(/^import [\s\S]*?;$/gm)];
  const last = imports.at(-1);
  const at = last ? last.index + last[0].length + 1 : 0;
  return source.slice(0, at) + `${line}\n` + source.slice(at);
}

/** Appends `item` to the array literal `export const modules ... = [ ... ];`. */
export function addToModuleList(source: string, item: string): string {
  const m = /export const modules\b[^=]*=\s*\[([\s\S]*?)\];/.exec(source);
  if (!m) throw new CliError('src/modules/index.ts has no "export const modules ... = [...];" list to add the module to', EXIT.failed);
  const body = m[1]!;
  const start = m.index + /=\s*\[/.exec(m[0])!.index + /=\s*\[/.exec(m[0])![0].length;
  const end = start + body.length;
  const trimmed = body.trimEnd();
  let next: string;
  if (trimmed.trim() === '') next = item;
  else if (body.includes('\n')) {
    // One entry per line: keep that layout (and a trailing comma when the list has one).
    const indent = /\n([ \t]*)\S/.exec(body)?.[1] ?? '  ';
    next = `${trimmed}${trimmed.endsWith(',') ? '' : ','}\n${indent}${item}${trimmed.endsWith(',') ? ',' : ''}\n`;
  } else next = `${trimmed.replace(/,$/, '')}, ${item}`;
  return source.slice(0, start) + next + source.slice(end);
}

export async function makeModule(root: string, name: string, opts: { area?: string; now?: Date } = {}) {
  if (!MODULE_RE.test(name)) throw new CliError(`module name "${name}" must be lowercase words joined by hyphens, plural (e.g. support-tickets)`, EXIT.usage);
  const area = opts.area ?? 'app';
  if (!AREA_RE.test(area)) throw new CliError(`--area "${area}" must be one lowercase word (the first part of permission keys)`, EXIT.usage);
  const dir = join(root, 'src', 'modules', name);
  if (existsSync(dir)) throw new CliError(`${relative(root, dir)} already exists`, EXIT.usage);
  const indexFile = join(root, 'src', 'modules', 'index.ts');
  if (!existsSync(indexFile)) throw new CliError(`no ${relative(root, indexFile)}: run this in the project's root folder`, EXIT.usage);
  const n = moduleNames(name, area, timestamp(opts.now));
  const exportName = `${n.camel}Module`;
  const index = await readFile(indexFile, 'utf8');
  if (new RegExp(`\\b${exportName}\\b`).test(index)) throw new CliError(`src/modules/index.ts already uses the name ${exportName}`, EXIT.usage);
  // Routes and permissions must not collide with a module that exists.
  const { modules } = await import('../../modules/index.ts').catch(() => ({ modules: [] as Array<{ name: string; permissions?: ReadonlyArray<{ key: string }> }> }));
  const taken = modules.flatMap((m) => m.permissions ?? []).find((p) => p.key.startsWith(`${area}.${n.camel}.`));
  if (taken) throw new CliError(`permission ${taken.key} already exists: pick another module name or --area`, EXIT.usage);

  const updated = addToModuleList(addImport(index, `import { ${exportName} } from './${name}/index.ts';`), exportName);
  const files = moduleFiles(n);
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { flag: 'wx' });
  }
  await writeFile(indexFile, updated);
  return {
    module: name,
    folder: relative(root, dir),
    files: Object.keys(files).map((f) => relative(root, join(dir, f))),
    registered: relative(root, indexFile),
    permissions: ['read', 'write', 'delete'].map((a) => `${area}.${n.camel}.${a}`),
    routes: [`POST /v1/${name}`, `GET /v1/${name}`, `GET /v1/${name}/{id}`, `PATCH /v1/${name}/{id}`, `DELETE /v1/${name}/{id}`],
    migration: n.migration,
  };
}

const ROLE_NAMES = ['admin', 'member', 'viewer'] as const;

/**
 * Adds `{ key, description, roles }` to the module's permissions.ts. `key`
 * is `resource.action` (the module's area is prefixed) or a full
 * `area.resource.action`.
 */
export async function makePermission(root: string, module: string, key: string, opts: { description?: string; roles?: string[] } = {}) {
  const file = join(root, 'src', 'modules', module, 'permissions.ts');
  if (!existsSync(file)) throw new CliError(`no src/modules/${module}/permissions.ts`, EXIT.usage);
  const source = await readFile(file, 'utf8');
  const parts = key.split('.');
  const area = /key:\s*'([a-z][a-z0-9]*)\./.exec(source)?.[1];
  const full = parts.length === 3 ? key : parts.length === 2 && area ? `${area}.${key}` : null;
  if (!full) throw new CliError(`permission "${key}" must be resource.action (or area.resource.action${area ? '' : ': this module has no permission to take the area from'})`, EXIT.usage);
  if (!/^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*){2}$/.test(full)) throw new CliError(`permission "${full}" must look like area.resource.action (letters and digits)`, EXIT.usage);
  const roles = opts.roles ?? ['admin'];
  const bad = roles.filter((r) => !(ROLE_NAMES as readonly string[]).includes(r));
  if (bad.length) throw new CliError(`--roles: unknown role(s) ${bad.join(', ')} (owners hold every permission; give ${ROLE_NAMES.join(', ')})`, EXIT.usage);
  const { modules } = await import('../../modules/index.ts');
  if (modules.some((m) => (m.permissions ?? []).some((p) => p.key === full)) || source.includes(`'${full}'`)) throw new CliError(`permission ${full} already exists`, EXIT.usage);
  const anchor = '] as const satisfies readonly PermissionDef[];';
  const at = source.lastIndexOf(`\n${anchor}`);
  if (at < 0) throw new CliError(`src/modules/${module}/permissions.ts has no "${anchor}" line to add to`, EXIT.failed);
  const description = (opts.description ?? `${full.split('.')[2]} ${full.split('.')[1]}`).replace(/[\\']/g, (c) => `\\${c}`);
  const line = `  { key: '${full}', description: '${description}', roles: [${roles.map((r) => `'${r}'`).join(', ')}] },`;
  const updated = `${source.slice(0, at + 1)}${line}\n${source.slice(at + 1)}`;
  await writeFile(file, updated);
  return { permission: full, roles: ['owner', ...roles], file: relative(root, file) };
}
