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
# Every case of the escape suite that applies to a VM (seccomp does not: the guest kernel is the
# job's own): ~5 minutes under TCG on a 2-core host. AIRLOCK_ESCAPE_CASES=a,b runs a subset.
export AIRLOCK_ESCAPE_CASES="${AIRLOCK_ESCAPE_CASES-}"
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  --test-name-pattern='vm provisioner|console of a real guest' \
  test/provisioners/vm.test.ts test/provisioners/vm-console.test.ts test/escape/escape.test.ts
