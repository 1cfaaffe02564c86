-- bench_clone_schema(template, target): a copy of a migrated tenant schema
-- (tables, column defaults, checks, keys, indexes and foreign keys under their
-- original names, and every row: the migration ledger and seed rows). Used to
-- grow a fleet to 10,000 tenants in minutes instead of most of an hour.
-- Refuses templates with things it does not copy (sequences, views, functions,
-- non-FK triggers), so a new kind of migration cannot be silently skipped.
create or replace function pg_temp.bench_clone_schema(tpl text, target text) returns void language plpgsql as $$
declare
  r record;
begin
  if exists (select 1 from pg_class where relnamespace = tpl::regnamespace and relkind not in ('r', 'i'))
     or exists (select 1 from pg_proc where pronamespace = tpl::regnamespace)
     or exists (select 1 from pg_trigger t join pg_class c on c.oid = t.tgrelid where c.relnamespace = tpl::regnamespace and not t.tgisinternal) then
    raise exception 'template schema % holds objects bench_clone_schema does not copy', tpl;
  end if;
  execute format('create schema %I', target);
  for r in select relname from pg_class where relnamespace = tpl::regnamespace and relkind = 'r' loop
    execute format('create table %I.%I (like %I.%I including defaults including constraints including generated including identity excluding indexes)', target, r.relname, tpl, r.relname);
  end loop;
  -- Primary keys, unique and exclusion constraints (named as in the template).
  for r in select c.relname, k.conname, pg_get_constraintdef(k.oid) as def from pg_constraint k join pg_class c on c.oid = k.conrelid
           where k.connamespace = tpl::regnamespace and k.contype in ('p', 'u', 'x') loop
    execute format('alter table %I.%I add constraint %I %s', target, r.relname, r.conname, r.def);
  end loop;
  -- Other indexes.
  for r in select pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid
           where c.relnamespace = tpl::regnamespace and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) loop
    execute replace(r.def, format(' ON %s.', quote_ident(tpl)), format(' ON %s.', quote_ident(target)));
  end loop;
  for r in select relname from pg_class where relnamespace = tpl::regnamespace and relkind = 'r' loop
    execute format('insert into %I.%I select * from %I.%I', target, r.relname, tpl, r.relname);
  end loop;
  for r in select c.relname, k.conname, pg_get_constraintdef(k.oid) as def from pg_constraint k join pg_class c on c.oid = k.conrelid
           where k.connamespace = tpl::regnamespace and k.contype = 'f' loop
    execute format('alter table %I.%I add constraint %I %s', target, r.relname, r.conname,
      replace(r.def, format('REFERENCES %s.', quote_ident(tpl)), format('REFERENCES %s.', quote_ident(target))));
  end loop;
end $$;
