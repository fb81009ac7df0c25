-- The version-checked save: writes the whole message array only if the stored version is
-- the one the caller read (or when it forces the write); otherwise answers with what is
-- stored now so the caller can resolve. The row lock makes check and write one step:
-- without it two saves that read the same version could both pass the check.
create function save_conversation(args jsonb) returns jsonb
language plpgsql as $$
declare
  current_row conversations;
  new_version bigint;
begin
  select * into current_row from conversations where id = args ->> 'id' for update;
  if not found then
    raise exception using errcode = 'P0002', message = 'conversation not found';
  end if;
  if not coalesce(args -> 'force_overwrite' = 'true'::jsonb, false)
     and (args -> 'expected_version') is distinct from to_jsonb(current_row.version) then
    return jsonb_build_object('success', false, 'version', current_row.version,
                              'messages', current_row.messages);
  end if;
  update conversations set messages = args -> 'messages' where id = args ->> 'id'
    returning version into new_version;
  return jsonb_build_object('success', true, 'version', new_version);
end $$;
