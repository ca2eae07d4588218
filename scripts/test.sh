#!/usr/bin/env bash
# The whole test suite: system packages, npm packages, type-check, lint, format, build, tests.
# `--no-checks` skips type-check/lint/format (quicker local loops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
bash scripts/ensure-node-modules.sh
if [ "${1:-}" != "--no-checks" ]; then
  npx tsc -p tsconfig.json --noEmit
  npx tsc -p web/tsconfig.json --noEmit
  npx eslint --max-warnings 0 .
  npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "prettier: files above need 'npm run format'" >&2; exit 1; }
fi
bash scripts/build-native.sh
npx tsc -p tsconfig.build.json
# The web UI (web/ → dist/web), served by the orchestrator and driven by the browser tests.
npx vite build --config web/vite.config.ts --logLevel warn
# Jobs run on the default image, never on the host's root: build it once (minutes) when missing.
node bin/airlock.js image build debian-12 --if-missing --quiet
mapfile -t files < <(find test -name '*.test.ts' | sort)
# One shared PostgreSQL for the run (stopped on exit); each test file clones its own database from it.
source scripts/test-db.sh
tap="$(mktemp)"
status=0
# Three files at a time on two cores: most test time is spent waiting (PostgreSQL, sandboxes,
# child processes, the browser), and no test depends on timing.
node --import tsx --test --test-concurrency=3 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}" || status=$?
# The plain closing line CI reads: "N passed, N failed".
passed=$(grep -E '^# pass ' "$tap" | tail -n 1 | awk '{print $3}')
failed=$(grep -E '^# fail ' "$tap" | tail -n 1 | awk '{print $3}')
rm -f "$tap"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
