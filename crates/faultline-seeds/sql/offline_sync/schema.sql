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

-- Runs and usage rows are audited (every committed image, in order): faultline attaches
-- its audit trigger to the tables the system audits.
