-- loop_export: the practice-loop rows the browser extension saves (seed document 000).
-- Loop times are numeric so a value comes back exactly as it was written.
create table practice_sessions (
  id bigserial primary key,
  user_id text,
  video_id text,
  loop_id text,
  start_s numeric,
  end_s numeric,
  idempotency_key text
);

create trigger practice_sessions_serial before insert on practice_sessions
  for each row execute function faultline_advance_serial('id');
