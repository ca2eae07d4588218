# What an ordinary job does (the job beside an attack and the next one): the runner user, git,
# Python, hashing, a file written in the workspace. Prints one line the test checks exactly.
set -euo pipefail
test "$(id -un)" = runner
test "$(git rev-parse HEAD)" = "$GITHUB_SHA"
h=$(printf airlock | sha256sum | cut -d' ' -f1)
py=$(python3 -c 'print(sum(range(1000)))')
dd if=/dev/zero of=work.bin bs=1M count=8 status=none
echo "work-ok $1 $h $py $(stat -c %s work.bin)"
