# Sourced by an attack step. `attempt WHAT CMD...` runs one attack: if it succeeds (exit 0) it is
# an escape, reported as "ESCAPED: WHAT"; otherwise "BLOCKED: WHAT" with the error it got.
# `finish` fails the step when anything escaped.
escaped=0
attempt() {
  local what=$1 out rc
  shift
  out=$("$@" 2>&1 </dev/null)
  rc=$?
  out=$(printf '%s' "$out" | tr -d '\000' | head -c 400 | tr '\n' ' ')
  if [ "$rc" -eq 0 ]; then
    echo "ESCAPED: $what: $out"
    escaped=$((escaped + 1))
  else
    echo "BLOCKED: $what (exit $rc): $out"
  fi
}
finish() {
  if [ "$escaped" -gt 0 ]; then
    echo "$escaped attempt(s) escaped"
    exit 1
  fi
  echo "all attempts blocked"
}
