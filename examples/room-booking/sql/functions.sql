-- book_room: the overlap check and the insert in one transaction, serialised per room by
-- an advisory lock (under READ COMMITTED two callers could otherwise both see the slot
-- free); a known key answers with the booking it already made.
create function book_room(args jsonb) returns jsonb
language plpgsql as $$
declare
  made bookings;
begin
  perform pg_advisory_xact_lock(hashtext(args ->> 'room'));
  select * into made from bookings where booking_key = args ->> 'booking_key';
  if found then
    return to_jsonb(made);
  end if;
  if exists (
    select 1 from bookings
    where room = args ->> 'room' and status = 'active'
      and start_min < (args ->> 'end_min')::bigint
      and (args ->> 'start_min')::bigint < end_min
  ) then
    raise exception 'the room is booked for an overlapping time' using errcode = '23P01';
  end if;
  insert into bookings (user_id, room, start_min, end_min, booking_key)
  values (args ->> 'user_id', args ->> 'room', (args ->> 'start_min')::bigint,
          (args ->> 'end_min')::bigint, args ->> 'booking_key')
  returning * into made;
  return to_jsonb(made);
end $$;
