// The table of attacks (issue 6, item 6). Each case is the bash of one step of a real job
// (`attempt WHAT CMD...` from scripts/probe.sh: a command that succeeds is an escape) and what
// must be seen afterwards. Checks common to every case (the job beside and the next job succeed,
// no process outlives the run, no secret of the node appears in any log, no host listener was
// reached, the agent lives) are in escape.test.ts.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FLAVOUR } from "./node.js";
import type { Targets } from "./node.js";

export type Conclusion = "success" | "failure";

export interface EscapeCase {
  id: string;
  /** The attack, as the issue names it (also the step's name). */
  attack: string;
  /** Bash of the attack step (probe.sh is sourced; ESCAPE_MARK, AGENT_PID, DATA_DIR, AGENT_DIR,
   * MACHINES_DIR, HOST_PORT, API_PORT are in its environment). */
  script(t: Targets, mark: string): string;
  expect: {
    /** Conclusion of the attack job (either of two, where both are a clean outcome). */
    attack: Conclusion | Conclusion[];
    /** How the outcome must be reported in the attack job's log (each must match). */
    report: RegExp[];
    /** Text that must not appear in the attack job's log, beyond the node's secrets. */
    secrets?(t: Targets, mark: string): string[];
    /** Host-side checks: returns the problems found. */
    host?(t: Targets, mark: string): string[];
  };
}

const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
const blocked = (...whats: string[]): RegExp[] => [
  ...whats.map((w) => new RegExp(`BLOCKED: ${w.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(exit`)),
  /all attempts blocked/,
];
const py = (script: string, ...args: string[]): string => `python3 .escape/${script} ${args.join(" ")}`;

/** Limits the node puts on every machine (besides the flavour's). */
const CAP_PROCESSES = 6_000;
const SYSCALLS = [
  "add_key",
  "keyctl",
  "request_key",
  "bpf",
  "perf_event_open",
  "init_module",
  "finit_module",
  "delete_module",
  "mount",
  "umount2",
  "pivot_root",
  "kexec_load",
  "kexec_file_load",
  "reboot",
  "swapon",
  "swapoff",
  "settimeofday",
  "clock_settime",
  "clock_adjtime",
  "unshare-user",
  "setns",
  "ptrace-attach-agent",
  "open_by_handle_at",
];

export const CASES: readonly EscapeCase[] = [
  {
    id: "shadow",
    attack: "read /etc/shadow",
    script: () => `attempt "read /etc/shadow" cat /etc/shadow
attempt "read /etc/shadow through /proc/1/root" cat /proc/1/root/etc/shadow
finish`,
    expect: {
      attack: "success",
      report: blocked("read /etc/shadow", "read /etc/shadow through /proc/1/root"),
    },
  },
  {
    id: "orchestrator-data",
    attack: "read the orchestrator's data directory (PostgreSQL files, logs)",
    script: (t) => `attempt "list the orchestrator's data directory" ls -la "$DATA_DIR"
attempt "read the orchestrator's log" cat ${q(t.dataCanaryFile)}
attempt "read PostgreSQL's superuser password" cat ${q(t.pgPasswordFile)}
attempt "list PostgreSQL's data directory" ls ${q(t.pgData)}
attempt "find a PostgreSQL cluster anywhere" sh -c 'f=$(find / -xdev -name PG_VERSION -print -quit 2>/dev/null); test -n "$f" && echo "$f"'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "list the orchestrator's data directory",
        "read the orchestrator's log",
        "read PostgreSQL's superuser password",
        "list PostgreSQL's data directory",
        "find a PostgreSQL cluster anywhere",
      ),
    },
  },
  {
    id: "mirrors",
    attack: "read another repository from the orchestrator's git mirrors",
    script: (t) => `attempt "list the repository mirrors" ls "$DATA_DIR/mirrors"
attempt "read another repository's secret from its mirror" git -c safe.directory='*' --git-dir=${q(t.victimMirror)} show ${t.victimCommit}:secret.txt
attempt "clone another repository's mirror" git -c safe.directory='*' clone -q ${q(t.victimMirror)} /tmp/stolen
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "list the repository mirrors",
        "read another repository's secret from its mirror",
        "clone another repository's mirror",
      ),
      secrets: (t) => [t.victimCommit],
    },
  },
  {
    id: "agent-folder",
    attack: "read the agent's folder",
    script: (t) => `attempt "list the agent's folder" ls -la "$AGENT_DIR"
attempt "read a file in the agent's folder" cat ${q(t.agentCanaryFile)}
attempt "read the agent's outbox" sh -c 'for f in "$AGENT_DIR"/outbox/*; do cat "$f" || exit 1; done'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "list the agent's folder",
        "read a file in the agent's folder",
        "read the agent's outbox",
      ),
    },
  },
  {
    id: "other-workspace",
    attack: "read another running job's workspace",
    script: () => `attempt "list the node's machines" ls "$MACHINES_DIR"
attempt "read the workspace of the job beside" sh -c 'cat "$MACHINES_DIR"/*/workspace/secret.txt'
attempt "reach the job beside through /proc" sh -c 'for p in /proc/[0-9]*; do cat "$p/root/airlock/workspace/secret.txt" 2>/dev/null && exit 0; done; exit 1'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "list the node's machines",
        "read the workspace of the job beside",
        "reach the job beside through /proc",
      ),
      secrets: (_t, mark) => [`BESIDE-SECRET-${mark}`],
    },
  },
  {
    id: "write-outside",
    attack: "write outside the workspace",
    script: () => `n="$ESCAPE_MARK"
attempt "write in /usr" touch "/usr/$n"
attempt "write in /etc" touch "/etc/$n"
attempt "write at /" touch "/$n"
attempt "write in the actions folder" touch "/airlock/actions/$n"
attempt "write in the node's machines folder" touch "$MACHINES_DIR/$n"
attempt "write in the agent's folder" touch "$AGENT_DIR/$n"
attempt "write to /proc/sys" sh -c 'echo 3 > /proc/sys/vm/drop_caches'
attempt "write to /sys" sh -c 'echo /tmp/x > /sys/kernel/uevent_helper'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "write in /usr",
        "write in /etc",
        "write at /",
        "write in the actions folder",
        "write in the node's machines folder",
        "write in the agent's folder",
        "write to /proc/sys",
        "write to /sys",
      ),
      host: (t, mark) =>
        [
          join(t.rootfs, "usr", mark),
          join(t.rootfs, "etc", mark),
          join(t.rootfs, mark),
          join("/usr", mark),
          join("/etc", mark),
          join("/", mark),
          join(t.machinesDir, mark),
          join(t.agentDir, mark),
        ]
          .filter((p) => existsSync(p))
          .map((p) => `the job created ${p} on the host`),
    },
  },
  {
    id: "host-processes",
    attack: "list or signal host processes",
    script: () => `attempt "read the agent's command line" cat "/proc/$AGENT_PID/cmdline"
attempt "signal the agent (kill -0)" kill -0 "$AGENT_PID"
attempt "signal the agent (kill -CONT)" kill -CONT "$AGENT_PID"
attempt "find the agent among all processes" sh -c 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -q "airlock[.]js agent"'
attempt "see more processes than the machine's" sh -c 'n=$(ls /proc | grep -c "^[0-9]"); echo "$n processes"; test "$n" -gt 30'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "read the agent's command line",
        "signal the agent (kill -0)",
        "signal the agent (kill -CONT)",
        "find the agent among all processes",
        "see more processes than the machine's",
      ),
    },
  },
  {
    id: "kill-all",
    attack: "signal every process it can (kill -9 -1)",
    script: () => `echo "killing every process this job can signal"
kill -9 -1
echo "kill -9 -1 returned $?"`,
    // Whatever it takes down inside its own machine, the node and the other jobs must not notice
    // (checked for every case); the attack's own step may die with its machine.
    expect: { attack: "failure", report: [/killing every process this job can signal/] },
  },
  {
    id: "agent-environ",
    attack: "read /proc/<pid>/environ of the agent",
    script: () => `attempt "read the agent's environment" cat "/proc/$AGENT_PID/environ"
attempt "find the node token in any process's environment" sh -c 'cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n" | grep -q "alk_reg_\\|alk_node_"'
attempt "find the node token in the job's environment" sh -c 'env | grep -q "alk_reg_\\|alk_node_"'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "read the agent's environment",
        "find the node token in any process's environment",
        "find the node token in the job's environment",
      ),
    },
  },
  {
    id: "loopback",
    attack: "reach the node's loopback services",
    script: (
      t,
    ) => `attempt "connect to a host listener on 127.0.0.1" ${py("connect.py", "tcp", "127.0.0.1", "$HOST_PORT")}
attempt "connect to a host listener on localhost" curl -sS --max-time 5 "http://localhost:$HOST_PORT/"
attempt "connect to the orchestrator's API" curl -sS --max-time 5 "http://127.0.0.1:$API_PORT/healthz"
attempt "connect to the orchestrator's PostgreSQL" ${py("connect.py", "tcp", "127.0.0.1", String(t.pgPort))}
attempt "connect to a host listener on the host's address" ${py("connect.py", "tcp", t.hostAddress, "$HOST_PORT")}
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "connect to a host listener on 127.0.0.1",
        "connect to a host listener on localhost",
        "connect to the orchestrator's API",
        "connect to the orchestrator's PostgreSQL",
        "connect to a host listener on the host's address",
      ),
    },
  },
  {
    id: "metadata",
    attack: "reach 169.254.169.254",
    script:
      () => `attempt "route to 169.254.169.254:80" ${py("connect.py", "tcp", "169.254.169.254", "80", "--route")}
attempt "HTTP to the cloud metadata service" curl -sS --max-time 5 http://169.254.169.254/latest/meta-data/
finish`,
    expect: {
      attack: "success",
      report: blocked("route to 169.254.169.254:80", "HTTP to the cloud metadata service"),
    },
  },
  {
    id: "fork-bomb",
    attack: "fork bomb",
    // Bounded (a C program forking until fork fails or CAP processes live), so that a node
    // without a process limit reports an escape instead of being knocked over.
    script: () => `gcc -O1 -o /tmp/forkbomb .escape/forkbomb.c
attempt "create ${CAP_PROCESSES} processes" /tmp/forkbomb ${CAP_PROCESSES}
finish`,
    expect: { attack: "failure", report: [/process limit \d+ exceeded/] },
  },
  {
    id: "memory-bomb",
    attack: "memory bomb",
    script:
      () => `attempt "allocate ${FLAVOUR.memoryMb * 2} MiB" ${py("membomb.py", String(FLAVOUR.memoryMb * 2))}
finish`,
    expect: { attack: "failure", report: [new RegExp(`memory limit ${FLAVOUR.memoryMb} MiB exceeded`)] },
  },
  {
    id: "shm-fill",
    attack: "fill /dev/shm",
    // tmpfs pages count as the machine's memory: the size limit or the memory limit, whichever first.
    script:
      () => `attempt "write 2048 MiB to /dev/shm" dd if=/dev/zero of=/dev/shm/fill bs=1M count=2048 status=none
finish`,
    expect: {
      attack: ["success", "failure"],
      report: [
        new RegExp(
          `BLOCKED: write 2048 MiB to /dev/shm .*(No space left on device|Cannot allocate memory)|memory limit ${FLAVOUR.memoryMb} MiB exceeded`,
        ),
      ],
    },
  },
  {
    id: "tmp-fill",
    attack: "fill /tmp",
    script: () => `attempt "write 2048 MiB to /tmp" dd if=/dev/zero of=/tmp/fill bs=1M count=2048 status=none
finish`,
    expect: {
      attack: ["success", "failure"],
      report: [
        new RegExp(
          `BLOCKED: write 2048 MiB to /tmp .*(No space left on device|Cannot allocate memory)|memory limit ${FLAVOUR.memoryMb} MiB exceeded`,
        ),
      ],
    },
  },
  {
    id: "disk-fill",
    attack: "fill the workspace disk",
    script:
      () => `attempt "write ${FLAVOUR.diskMb * 2} MiB in the workspace" dd if=/dev/zero of=fill bs=1M count=${FLAVOUR.diskMb * 2} status=none
finish`,
    expect: {
      attack: ["success", "failure"],
      report: [
        new RegExp(
          `BLOCKED: write ${FLAVOUR.diskMb * 2} MiB in the workspace .*(No space left on device|Disk quota exceeded)|disk limit ${FLAVOUR.diskMb} MiB exceeded`,
        ),
      ],
    },
  },
  {
    id: "daemon",
    attack: "leave a daemon behind (double fork, setsid, ignoring SIGTERM)",
    script:
      () => `setsid -f bash -c 'trap "" TERM HUP INT; exec -a "daemon1-$ESCAPE_MARK" sleep 100000' </dev/null >/dev/null 2>&1
nohup bash -c 'trap "" TERM HUP; exec -a "daemon2-$ESCAPE_MARK" sleep 100000' </dev/null >/dev/null 2>&1 &
disown
python3 -c '
import os, signal, sys
if os.fork(): sys.exit(0)
os.setsid()
if os.fork(): sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.execvp("bash", ["bash", "-c", "exec -a daemon3-$ESCAPE_MARK sleep 100000"])
'
setsid -f env -i bash -c "exec -a daemon4-$ESCAPE_MARK sleep 100000" </dev/null >/dev/null 2>&1
for i in $(seq 200); do
  n=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c "^daemon[1-4]-$ESCAPE_MARK")
  [ "$n" -ge 4 ] && break
  sleep 0.05
done
echo "daemons running: $n"`,
    expect: { attack: "success", report: [/daemons running: 4/] },
  },
  {
    id: "tamper-limits",
    attack: "tamper with its own limits",
    script:
      () => `attempt "raise the memory limit" sh -c 'for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes; do echo -1 > "$f" 2>/dev/null && exit 0; done; exit 1'
attempt "raise the pids limit" sh -c 'for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max; do echo max > "$f" 2>/dev/null && exit 0; done; exit 1'
attempt "leave its cgroup" sh -c 'for d in /sys/fs/cgroup /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified; do echo $$ > "$d/cgroup.procs" 2>/dev/null && exit 0; done; exit 1'
attempt "raise the open-files hard limit" bash -c 'ulimit -Hn $(( $(ulimit -Hn) + 1 ))'
attempt "raise the open-files limit of pid 1" prlimit --pid 1 --nofile=1048576:1048576
attempt "remount / read-write" ${py("syscall.py", "remount-root-rw")}
attempt "make /dev/shm bigger" ${py("syscall.py", "remount-shm-bigger")}
attempt "make /tmp bigger" ${py("syscall.py", "remount-tmp-bigger")}
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "raise the memory limit",
        "raise the pids limit",
        "leave its cgroup",
        "raise the open-files hard limit",
        "raise the open-files limit of pid 1",
        "remount / read-write",
        "make /dev/shm bigger",
        "make /tmp bigger",
      ),
    },
  },
  {
    id: "unix-socket",
    attack: "connect to a host unix socket by path",
    script: (t) =>
      `${t.unixPaths.map((p) => `attempt "connect to ${p}" ${py("connect.py", "unix", q(p))}`).join("\n")}
finish`,
    expect: {
      attack: "success",
      report: [
        /BLOCKED: connect to \/var\/tmp\/airlock-escape-\w+\/host\.sock \(exit/,
        /BLOCKED: connect to \/run\/airlock-escape-\w+\.sock \(exit/,
        /all attempts blocked/,
      ],
    },
  },
  {
    id: "abstract-socket",
    attack: "connect to a host abstract unix socket",
    script: (
      t,
    ) => `attempt "find the host's abstract socket in /proc/net/unix" grep -q ${q(t.abstractName)} /proc/net/unix
attempt "connect to the host's abstract socket" ${py("connect.py", "abstract", t.abstractName)}
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "find the host's abstract socket in /proc/net/unix",
        "connect to the host's abstract socket",
      ),
    },
  },
  {
    id: "raw-socket",
    attack: "open raw sockets",
    script:
      () => `attempt "open a raw ICMP socket" python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)'
attempt "open a packet socket" python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'
attempt "open a raw socket in a new user namespace" unshare -Urn python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)'
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "open a raw ICMP socket",
        "open a packet socket",
        "open a raw socket in a new user namespace",
      ),
    },
  },
  {
    id: "user-namespace",
    attack: "create a user namespace",
    script: () => `attempt "create a user namespace (unshare -U)" unshare -U true
attempt "become root in a new user namespace" unshare -Ur id -u
attempt "create a user namespace with unshare(2)" ${py("syscall.py", "unshare-user")}
finish`,
    expect: {
      attack: "success",
      report: blocked(
        "create a user namespace (unshare -U)",
        "become root in a new user namespace",
        "create a user namespace with unshare(2)",
      ),
    },
  },
  {
    id: "seccomp",
    attack: "call seccomp-blocked syscalls",
    script: () => `attempt "run without a seccomp filter" grep -E '^Seccomp:[[:space:]]*0$' /proc/self/status
${SYSCALLS.map((s) => `attempt "syscall ${s}" ${py("syscall.py", s)}`).join("\n")}
finish`,
    expect: {
      attack: "success",
      report: blocked("run without a seccomp filter", ...SYSCALLS.map((s) => `syscall ${s}`)),
    },
  },
  {
    id: "log-flood",
    attack: "flood the log",
    script: () => `echo "flooding 200 MiB of lines"
yes "flood flood flood flood flood flood flood flood flood flood flood flood flood flood flood flood" | head -c 200M
echo "flood done"`,
    expect: {
      attack: "success",
      report: [/flooding 200 MiB of lines/, /log truncated: the job's output exceeded/],
    },
  },
  {
    id: "log-line",
    attack: "flood the log with a 100 MB line without newline, invalid UTF-8 and NUL bytes",
    script: () => `echo "one 100 MB line follows"
head -c 100000000 /dev/zero | tr '\\0' '\\377'
head -c 1000000 /dev/zero
printf '\\300\\200 \\355\\240\\200 overlong and surrogate\\n'
echo "after the line"`,
    expect: {
      attack: "success",
      report: [/one 100 MB line follows/, /\[line cut: \d+ more characters dropped\]/, /after the line/],
    },
  },
];
