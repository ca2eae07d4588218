-- Who wrote each log chunk: 'system' for Airlock's own lines (step started and finished, the job's
-- conclusion, the runner's annotations, host lines such as egress decisions, truncation markers),
-- 'step' for what a job's processes printed or asked for (output, ::error:: and co.). Readers tell
-- them apart by this column, never by the text: a job printing "Job success" is 'step'.
-- Chunks stored before this migration, and any insert that does not say, are 'step': an unknown
-- origin is treated as the job's.
ALTER TABLE log_chunks
  ADD COLUMN source text NOT NULL DEFAULT 'step' CHECK (source IN ('system', 'step'));
