-- room_booking: one row per booking; a request's key makes a retry recognisable.
create table bookings (
  id bigserial primary key,
  user_id text,
  room text,
  start_min bigint,
  end_min bigint,
  booking_key text unique,
  status text not null default 'active',
  version bigint not null default 1
);

create trigger bookings_version before update on bookings
  for each row execute function faultline_bump_version('version');
create trigger bookings_serial before insert on bookings
  for each row execute function faultline_advance_serial('id');
