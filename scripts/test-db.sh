# Sourced by scripts/test.sh: starts ONE embedded PostgreSQL for the whole test run (unless
# AIRLOCK_TEST_DATABASE_URL or DATABASE_URL names a server), exports AIRLOCK_TEST_DATABASE_URL for
# test/helpers/db.ts, and stops it on exit so nothing is left running.
if [ -z "${AIRLOCK_TEST_DATABASE_URL:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
  airlock_test_db_dir="$(mktemp -d)"
  node --import tsx test/helpers/db-server.ts "$airlock_test_db_dir/url" &
  airlock_test_db_pid=$!
  airlock_test_db_stop() {
    kill -TERM "$airlock_test_db_pid" 2>/dev/null || true
    wait "$airlock_test_db_pid" 2>/dev/null || true
    rm -rf "$airlock_test_db_dir"
  }
  trap airlock_test_db_stop EXIT
  for _ in $(seq 1 600); do
    [ -s "$airlock_test_db_dir/url" ] && break
    kill -0 "$airlock_test_db_pid" 2>/dev/null || { echo "airlock: test PostgreSQL did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$airlock_test_db_dir/url" ] || { echo "airlock: test PostgreSQL did not start in time" >&2; exit 1; }
  AIRLOCK_TEST_DATABASE_URL="$(cat "$airlock_test_db_dir/url")"
  export AIRLOCK_TEST_DATABASE_URL
fi
