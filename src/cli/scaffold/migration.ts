// `plinth migrate make <module> <name>`: a timestamped tenant migration file
// and its line in the module's index.ts. The index edit is a text insertion
// next to the existing `tenantMigrations: {` entry, so the file keeps its
// formatting; a module without that entry gets a clear error instead.
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CliError, EXIT } from '../runtime.ts';

export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\D/g, '').slice(0, 14);
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const migrationTemplate = (name: string) => `import { sql, type Kysely } from 'kysely';

// ${name.replace(/_/g, ' ')}. Runs inside one tenant schema (db is scoped with withSchema);
// It runs once per tenant schema, inside that tenant's migration transaction.
export async function up(db: Kysely<any>): Promise<void> {
  void sql;
  void db;
}

// \`plinth migrate down\` runs this to revert the last step.
export async function down(db: Kysely<any>): Promise<void> {
  void db;
}
`;

export async function makeMigration(root: string, module: string, name: string, now = new Date()) {
  if (!/^[a-z][a-z0-9-]*$/.test(module)) throw new CliError(`module "${module}" must be a folder name (lowercase letters, digits, hyphens)`, EXIT.usage);
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new CliError(`migration name "${name}" must be snake_case (lowercase letters, digits, underscores)`, EXIT.usage);
  const dir = [join(root, 'src', 'modules', module), join(root, 'src', 'platform', module)].find((d) => existsSync(join(d, 'index.ts')));
  if (!dir) throw new CliError(`no module "${module}": expected src/modules/${module}/index.ts`, EXIT.usage);
  const full = `${timestamp(now)}_${name}`;
  const file = join(dir, 'migrations', `${full}.ts`);
  const indexFile = join(dir, 'index.ts');
  const index = await readFile(indexFile, 'utf8');
  const entry = /tenantMigrations:\s*\{/.exec(index);
  if (!entry) throw new CliError(`${relative(root, indexFile)} has no "tenantMigrations: {" entry: add one to the module first`, EXIT.failed);
  const ident = camel(name);
  if (new RegExp(`\\b${ident}\\b`).test(index)) throw new CliError(`${relative(root, indexFile)} already uses the name ${ident}: pick another migration name`, EXIT.usage);
  const imports = [...index.matchAll(/^import .*;$/gm)];
  const lastImport = imports.at(-1);
  const importLine = `import * as ${ident} from './migrations/${full}.ts';\n`;
  const at = lastImport ? lastImport.index + lastImport[0].length + 1 : 0;
  let updated = index.slice(0, at) + importLine + index.slice(at);
  const entryAt = /tenantMigrations:\s*\{/.exec(updated)!;
  // Append as the last entry of the object literal (before its closing brace).
  const open = entryAt.index + entryAt[0].length;
  const close = updated.indexOf('}', open);
  const body = updated.slice(open, close);
  const trimmed = body.trimEnd();
  const multiline = body.includes('\n');
  const sep = trimmed.trim() === '' ? '' : trimmed.endsWith(',') ? '' : ',';
  const insert = multiline ? `${trimmed}${sep}\n    '${full}': ${ident},\n  ` : `${trimmed}${sep} '${full}': ${ident} `;
  updated = updated.slice(0, open) + insert + updated.slice(close);

  await mkdir(join(dir, 'migrations'), { recursive: true });
  await writeFile(file, migrationTemplate(name), { flag: 'wx' });
  await writeFile(indexFile, updated);
  return { name: full, file: relative(root, file), index: relative(root, indexFile) };
}
