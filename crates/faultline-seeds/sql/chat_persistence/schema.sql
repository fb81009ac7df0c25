-- chat_persistence: one row per conversation holding its whole message array, with a
-- version the server bumps on every update (seed document 002).
create table conversations (
  id text primary key,
  user_id text,
  title text,
  messages jsonb,
  checksum text,
  version bigint not null default 1,
  unique (user_id, id)
);

create trigger conversations_version before update on conversations
  for each row execute function faultline_bump_version('version');
