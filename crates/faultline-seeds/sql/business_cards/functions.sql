-- business_cards server functions, the PL/pgSQL that the seed document's fix migrates in
-- (and the idempotent create the reference adds). Each takes its arguments as one jsonb
-- object and answers jsonb, the shape PostgREST's rpc endpoint passes through.

-- The base slug if it is free, else the base with a random six-character suffix. Under
-- READ COMMITTED two callers can still pick the same free slug; the unique constraint is
-- what finally decides, exactly as on a production database.
create function generate_unique_slug(base text) returns text
language plpgsql as $$
declare
  candidate text := base;
begin
  for attempt in 0..10 loop
    if attempt > 0 then
      candidate := base || '-' || substr(md5(random()::text), 1, 6);
    end if;
    if not exists (select 1 from business_cards where slug = candidate) then
      return candidate;
    end if;
  end loop;
  raise exception 'could not generate a unique slug';
end $$;

create function faultline_card_insert(args jsonb) returns jsonb
language plpgsql as $$
declare
  f jsonb := coalesce(args -> 'fields', '{}');
  made business_cards;
begin
  insert into business_cards (user_id, name, form_id, slug, title, email, phone, company)
  values (args ->> 'user_id', args ->> 'name', args ->> 'form_id',
          generate_unique_slug(coalesce(args ->> 'base_slug', 'card')),
          f ->> 'title', f ->> 'email', f ->> 'phone', f ->> 'company')
  returning * into made;
  return jsonb_build_object('id', made.id, 'slug', made.slug, 'name', made.name,
                            'existing', false);
end $$;

-- Slug generation and insert in one transaction.
create function create_business_card_atomic(args jsonb) returns jsonb
language plpgsql as $$
begin
  return faultline_card_insert(args);
end $$;

-- Like the atomic create, but a second call with the same form_id answers with the card
-- the first call made, even when the two race: the loser's insert hits the unique form_id
-- and reads the winner's row instead.
create function create_card_idempotent(args jsonb) returns jsonb
language plpgsql as $$
declare
  found_card business_cards;
begin
  for attempt in 1..3 loop
    -- Without a unique form_id (the naive schema) several rows may match: the oldest.
    select * into found_card from business_cards where form_id = args ->> 'form_id'
      order by id limit 1;
    if found then
      return jsonb_build_object('id', found_card.id, 'slug', found_card.slug,
                                'name', found_card.name, 'existing', true);
    end if;
    begin
      return faultline_card_insert(args);
    exception when unique_violation then
      -- Either the form was created meanwhile (the next pass finds it) or a slug was taken
      -- between the check and the insert (the next pass draws another).
      null;
    end;
  end loop;
  raise exception 'could not create card for form %', args ->> 'form_id';
end $$;

-- Applies the fields only if the card is still at the expected version; answers success
-- and the version now current.
create function update_business_card_optimistic(args jsonb) returns jsonb
language plpgsql as $$
declare
  f jsonb := coalesce(args -> 'fields', '{}');
  current_version bigint;
begin
  update business_cards set
    title = case when f ? 'title' then f ->> 'title' else title end,
    email = case when f ? 'email' then f ->> 'email' else email end,
    phone = case when f ? 'phone' then f ->> 'phone' else phone end,
    company = case when f ? 'company' then f ->> 'company' else company end
  where id = (args ->> 'id')::bigint
    and version = (args ->> 'expected_version')::bigint
  returning version into current_version;
  if found then
    return jsonb_build_object('success', true, 'new_version', current_version,
                              'message', 'updated');
  end if;
  select version into current_version from business_cards where id = (args ->> 'id')::bigint;
  if not found then
    return jsonb_build_object('success', false, 'new_version', null,
                              'message', 'card not found');
  end if;
  return jsonb_build_object('success', false, 'new_version', current_version,
                            'message', 'version conflict');
end $$;
