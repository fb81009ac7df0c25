-- reference: one row per loop, which the client's upsert names as its conflict target.
alter table practice_sessions
  add constraint practice_sessions_user_id_video_id_loop_id_key unique (user_id, video_id, loop_id);
