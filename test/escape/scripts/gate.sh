# First step of the attack job and of the job beside it: both say they are running (a marker file
# the test sees in their machine folder) and wait until the test releases them, so the job beside
# is always running when the attack starts. The job beside also keeps a secret in its workspace.
role=$1
if [ "$role" = beside ]; then
  echo "BESIDE-SECRET-$ESCAPE_MARK" > secret.txt
fi
touch ".escape-$ESCAPE_MARK-$role"
# ESCAPE_GATE=off: machines without host folders (VMs), which the test cannot release.
[ "${ESCAPE_GATE:-}" = off ] && touch .escape-go
until [ -e .escape-go ]; do sleep 0.05; done
echo "$role released"
