-- offline_sync: the runs the devices edit, a usage row per generation, the reference's
-- record of the operation ids it applied, and an audit of every row image committed to
-- runs and usage_logs (seed document 001). Every variant shares these tables.
create table runs (
  id text primary key,
  user_id text,
  title text,
  notes text,
  tags text,
  updated_at bigint,
  version bigint not null default 1,
  field_versions jsonb
);

create trigger runs_version before update on runs
  for each row execute function faultline_bump_version('version');

create table usage_logs (
  id bigserial primary key,
  user_id text,
  provider text,
  action text,
  credits_consumed bigint,
  metadata jsonb
);

create trigger usage_logs_serial before insert on usage_logs
  for each row execute function faultline_advance_serial('id');

create table applied_ops (
  op_id text primary key,
  result jsonb
);

-- The checkers must know what ever reached the server, not only what is left at the end:
-- a value written and then replaced leaves no trace in the final rows.
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

create trigger runs_audit after insert or update on runs
  for each row execute function faultline_audit_row();
create trigger usage_logs_audit after insert or update on usage_logs
  for each row execute function faultline_audit_row();
