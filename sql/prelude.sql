-- Loaded into every run's fresh schema before a scenario's own files.
--
-- Two triggers make PostgreSQL behave the way the simulated store is specified to, so the
-- same logic meets the same database on both backends; a third keeps the audit.

-- A version column that starts at 1 and goes up by one on every UPDATE, whatever the
-- statement wrote into it: optimistic locking relies on the server, not the client, doing
-- the counting.
create function faultline_bump_version() returns trigger
language plpgsql as $$
begin
  new := jsonb_populate_record(
    new,
    jsonb_build_object(tg_argv[0], coalesce((to_jsonb(old) ->> tg_argv[0])::bigint, 0) + 1)
  );
  return new;
end $$;

-- Rows inserted with an explicit id (the setup rows) move the serial sequence past that
-- id, so a later insert without one never collides with them.
create function faultline_advance_serial() returns trigger
language plpgsql as $$
declare
  seq text := pg_get_serial_sequence(format('%I.%I', tg_table_schema, tg_table_name), tg_argv[0]);
  given bigint;
  last bigint;
  called boolean;
begin
  if seq is null then
    return new;
  end if;
  given := (to_jsonb(new) ->> tg_argv[0])::bigint;
  execute format('select last_value, is_called from %s', seq) into last, called;
  if given >= (case when called then last + 1 else last end) then
    perform setval(seq, given, true);
  end if;
  return new;
end $$;

-- The audit: every row image committed to a table the system audits, in commit order,
-- because a value written and then replaced leaves no trace in the final rows. faultline
-- attaches this trigger to each audited table after the system's own files are loaded.
create table faultline_audit (
  seq bigserial primary key,
  tbl text not null,
  image jsonb not null
);

create function faultline_audit_row() returns trigger
language plpgsql as $$
begin
  insert into faultline_audit (tbl, image) values (tg_table_name, to_jsonb(new));
  return new;
end $$;
