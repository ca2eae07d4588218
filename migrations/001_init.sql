-- 001: the first migration. One row naming this Airlock installation; later migrations add the
-- real tables. Append-only: never edit a migration once merged, add a new numbered file instead.
CREATE TABLE airlock_instance (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO airlock_instance DEFAULT VALUES;
