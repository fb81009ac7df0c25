-- The reference's server side: each operation carries an id applied once (a repeat gets
-- the stored answer), and versions are assigned here, never by a device.

-- Sets one field of a run unless someone changed that field after the version the device
-- based its edit on; then nothing changes and the answer says what the server has.
create function apply_op(args jsonb) returns jsonb
language plpgsql as $$
declare
  op text := args ->> 'op_id';
  fld text := args ->> 'field';
  base bigint := coalesce((args ->> 'base_version')::bigint, 0);
  done jsonb;
  cur runs;
  seen bigint;
  next_version bigint;
  result jsonb;
begin
  if op is null then
    raise exception using errcode = 'P0001', message = 'op_id is required';
  end if;
  if fld is null or fld not in ('title', 'notes', 'tags') then
    raise exception using errcode = 'P0001', message = 'field must be title, notes or tags';
  end if;
  -- Two deliveries of one operation run one after the other; the second finds the first's
  -- stored answer.
  perform pg_advisory_xact_lock(hashtextextended(op, 0));
  select a.result into done from applied_ops a where a.op_id = op;
  if found then
    return done;
  end if;
  select * into cur from runs where id = args ->> 'record' for update;
  if not found then
    raise exception using errcode = 'P0002', message = 'run not found';
  end if;
  seen := coalesce((cur.field_versions ->> fld)::bigint, 0);
  if seen > base then
    result := jsonb_build_object('status', 'conflict', 'value', to_jsonb(cur) -> fld,
                                 'field_version', seen);
  else
    next_version := cur.version + 1;
    execute format('update runs set %I = $1, field_versions = $2 where id = $3', fld)
      using args ->> 'value',
            coalesce(cur.field_versions, '{}'::jsonb) || jsonb_build_object(fld, next_version),
            args ->> 'record';
    result := jsonb_build_object('status', 'applied', 'value', args -> 'value',
                                 'field_version', next_version);
  end if;
  insert into applied_ops (op_id, result) values (op, result);
  return result;
end $$;

-- Inserts a generation's usage row once per operation id.
create function log_usage(args jsonb) returns jsonb
language plpgsql as $$
declare
  op text := args ->> 'op_id';
  done jsonb;
  result jsonb := '{"status": "applied"}'::jsonb;
begin
  if op is null then
    raise exception using errcode = 'P0001', message = 'op_id is required';
  end if;
  if args -> 'row' is null then
    raise exception using errcode = 'P0001', message = 'row is required';
  end if;
  perform pg_advisory_xact_lock(hashtextextended(op, 0));
  select a.result into done from applied_ops a where a.op_id = op;
  if found then
    return done;
  end if;
  insert into usage_logs (user_id, provider, action, credits_consumed, metadata)
    select r.user_id, r.provider, r.action, r.credits_consumed, r.metadata
    from jsonb_populate_record(null::usage_logs, args -> 'row') r;
  insert into applied_ops (op_id, result) values (op, result);
  return result;
end $$;
