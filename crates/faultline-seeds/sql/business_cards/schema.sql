-- business_cards: the table every variant shares (seed document 004).
-- Variant files add only the constraints their migration introduced.
create table business_cards (
  id bigserial primary key,
  user_id text,
  name text,
  slug text,
  form_id text,
  title text,
  email text,
  phone text,
  company text,
  version bigint not null default 1
);

create trigger business_cards_version before update on business_cards
  for each row execute function faultline_bump_version('version');
create trigger business_cards_serial before insert on business_cards
  for each row execute function faultline_advance_serial('id');
