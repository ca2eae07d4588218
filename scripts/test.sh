#!/usr/bin/env bash
# The whole test suite: system packages, npm packages, type-check, lint, format, build, tests.
# `--no-checks` skips type-check/lint/format (quicker local loops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
bash scripts/ensure-node-modules.sh
if [ "${1:-}" != "--no-checks" ]; then
  npx tsc -p tsconfig.json --noEmit
  npx eslint --max-warnings 0 .
  npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "prettier: files above need 'npm run format'" >&2; exit 1; }
fi
npx tsc -p tsconfig.build.json
mapfile -t files < <(find test -name '*.test.ts' | sort)
# One shared PostgreSQL for the run (stopped on exit); each test file clones its own database from it.
source scripts/test-db.sh
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
