#!/usr/bin/env bash
# Builds the native helpers (native/<name>.c -> dist/native/<name>): static, so that the same
# binary runs inside any job image, whatever libc it has (or none). Rebuilds only what changed.
# Called by `npm run build` (and so by the bench scripts) and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/native
mkdir -p "$out"
for src in native/*.c; do
  bin="$out/$(basename "$src" .c)"
  if [ -x "$bin" ] && [ "$bin" -nt "$src" ] && [ "$bin" -nt "$0" ]; then continue; fi
  if ! command -v gcc >/dev/null 2>&1; then
    echo "airlock: gcc is missing; run scripts/ensure-system.sh (as root) or install gcc and libc6-dev" >&2
    exit 1
  fi
  gcc -static -O2 -Wall -Wextra -Werror -o "$bin.tmp" "$src"
  chmod 0755 "$bin.tmp"
  mv -f "$bin.tmp" "$bin"
done
