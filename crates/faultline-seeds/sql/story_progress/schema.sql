-- story_progress: the story whose generation progress tabs poll (seed document 003).
create table stories (
  id text primary key,
  title text,
  generation_progress integer
);
