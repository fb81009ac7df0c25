-- documented: the fix's migration makes slugs unique.
alter table business_cards add constraint business_cards_slug_key unique (slug);
