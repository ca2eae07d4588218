#!/usr/bin/env bash
# `airlock run` on the example repository: copies examples/hello into a fresh git repository and
# runs its workflows locally, each job in a fresh sandbox, without any server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
bash scripts/ensure-node-modules.sh
bash scripts/build-native.sh
npx tsc -p tsconfig.build.json
node bin/airlock.js image build debian-12 --if-missing
airlock="$PWD/bin/airlock.js"
work="$(mktemp -d /tmp/airlock-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp -a examples/hello/. "$work/"
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name="Airlock Demo" -c user.email=demo@airlock.invalid commit -qm "Example repository"
cd "$work"
node "$airlock" run "$@"
