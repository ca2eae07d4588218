#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds Airlock, then `airlock up`:
# the orchestrator with its embedded PostgreSQL, one local node agent, the example repository
# (examples/hello) registered and its workflow run; it prints where runs and logs can be followed
# and keeps serving until Ctrl-C (`npm run demo -- --exit` stops after the run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
bash scripts/ensure-node-modules.sh
bash scripts/build-native.sh
npx tsc -p tsconfig.build.json
npx vite build --config web/vite.config.ts --logLevel warn
# Jobs run on the default image, never on this host's root: build it once when missing (minutes).
node bin/airlock.js image build debian-12 --if-missing
exec node bin/airlock.js up --example examples/hello "$@"
