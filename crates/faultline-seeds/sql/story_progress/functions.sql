-- The reference's progress update: never moves a story backwards, however late or often
-- a write arrives. The answer's `lsn` is where the primary's log stood after the commit;
-- a function cannot see its own commit record, so the harness fills it in right after
-- the call returns (`pg_current_wal_lsn()` on the same connection).
create function update_story_progress_monotonic(args jsonb) returns jsonb
language plpgsql as $$
declare
  wanted integer := (args ->> 'progress')::integer;
  stored integer;
begin
  if wanted is null or wanted < 0 or wanted > 100 then
    raise exception using errcode = '23514', message = 'progress must be between 0 and 100';
  end if;
  update stories set generation_progress = wanted
    where id = args ->> 'id' and coalesce(generation_progress, 0) < wanted;
  select generation_progress into stored from stories where id = args ->> 'id';
  if not found then
    raise exception using errcode = 'P0002', message = 'story not found';
  end if;
  return jsonb_build_object('progress', greatest(stored, wanted), 'lsn', null);
end $$;
