-- reference: unique slugs, and one card per submitted form (the idempotency key).
alter table business_cards add constraint business_cards_slug_key unique (slug);
alter table business_cards add constraint business_cards_form_id_key unique (form_id);
