#!/usr/bin/env bash
# The VM provisioner's tests only (real QEMU; slow under TCG): its own test file and the VM part of
# the escape suite. A separate CI stage after scripts/test.sh, which skips them (they need
# AIRLOCK_VM_TESTS=1). Expects what test.sh prepared: system packages, node_modules, the debian-12 image.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-native.sh
npx tsc -p tsconfig.build.json
node bin/airlock.js image build debian-12 --if-missing --quiet
source scripts/test-db.sh
export AIRLOCK_VM_TESTS=1
# The escape cases where a VM differs most from a sandbox (under TCG each job boots a guest and runs
# ~10× slower: the whole table takes far longer than this stage's budget). AIRLOCK_ESCAPE_CASES=
# (empty) runs them all.
export AIRLOCK_ESCAPE_CASES="${AIRLOCK_ESCAPE_CASES-other-workspace,write-outside,host-processes,loopback,fork-bomb,memory-bomb,disk-fill,daemon}"
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  --test-name-pattern='vm provisioner' \
  test/provisioners/vm.test.ts test/escape/escape.test.ts
