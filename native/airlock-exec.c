/*
 * airlock-exec: the small native helper every machine start and every step goes through.
 *
 * Host side (run by the agent, before anything of the job exists):
 *   airlock-exec --join <cgroup.procs>... [--user UID:GID] -- <cmd...>
 *     Writes its own pid into each file (so <cmd> and all it forks start inside those cgroups,
 *     with no window where they run outside), drops supplementary groups when it may, optionally
 *     switches to UID:GID, then execvp(cmd).
 *
 *   airlock-exec --join <cgroup.procs>... [--user UID:GID] --args-fd N
 *     A zygote: joins the cgroups ahead of time (moving a process between cgroups may wait for an
 *     RCU grace period, ~10-25 ms on an idle host), then blocks reading the rest of its command
 *     line and its environment from fd N (see read_blob) and goes on as if they had been given.
 *     The agent keeps zygotes ready so that no job start waits for a cgroup move.
 *
 *   airlock-exec [--join <cgroup.procs>...] --enter <pid> --jail [jail options] -- <argv...>
 *     Every step: joins the cgroups, then every namespace of <pid> (the machine's PID 1) and its
 *     root and working directory, forks into the machine's PID namespace and there jails itself
 *     (below) and execs argv. The parent waits outside (as the job's user, no capabilities) and
 *     exits as the step did, so killing its process group kills the step.
 *
 * Jail options: --jail [--nofile N] [--allow-userns] [--chdir DIR] [--uid N] [--gid N]
 *     Clears ambient capabilities and the whole bounding set, switches to uid/gid 1001 (default)
 *     with no supplementary groups, clears every remaining capability, sets RLIMIT_NOFILE
 *     (soft = hard = N, set before --enter while host privileges allow raising it; without them
 *     capped at the hard limit we have), no_new_privs and the seccomp filter below, changes directory, then
 *     execvp(argv). Anything that cannot be done is an error: the step does not run (exit 125).
 *     Works from inside a machine too (/airlock/externals/bin/airlock-exec, bound read-only).
 *
 * Inside a machine:
 *   airlock-exec --init
 *     The machine's PID 1 (bwrap --as-pid-1, already under the filter): writes one byte to stdout
 *     once running, reaps every orphan, exits when stdin reaches end of file.
 *   airlock-exec --dump-bpf [--allow-userns]
 *     Writes the seccomp filter (struct sock_filter[]) to stdout, for bwrap --seccomp FD.
 *
 * Exit status: 125 when the helper itself failed, 126/127 when argv could not be executed,
 * otherwise argv's own.
 *
 * The filter (classic BPF): a syscall from a foreign architecture or the x32 ABI kills the
 * process; keyrings, bpf, perf, modules, mounts, kexec, reboot, swap, clock setting, setns and
 * a few more that builds never need fail with EPERM; clone/unshare asking for a new user
 * namespace fail with EPERM unless --allow-userns; clone3 fails with ENOSYS so that libc falls
 * back to clone, whose flags a classic filter can read. ptrace stays allowed (the machine's PID
 * namespace already keeps host processes out of reach). Everything else is allowed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define AIRLOCK_AUDIT_ARCH AUDIT_ARCH_X86_64
#define AIRLOCK_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define AIRLOCK_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "airlock-exec: unsupported architecture (x86_64 and aarch64 only)"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n) (offsetof(struct seccomp_data, args[n]))
#else
#define ARG_LO(n) (offsetof(struct seccomp_data, args[n]) + 4)
#endif

#define EXIT_HELPER 125
#define MAX_INSNS 256

static void die(const char *what, const char *arg) {
  if (arg)
    fprintf(stderr, "airlock-exec: %s %s: %s\n", what, arg, strerror(errno));
  else
    fprintf(stderr, "airlock-exec: %s: %s\n", what, strerror(errno));
  exit(EXIT_HELPER);
}

static void usage(const char *why) {
  fprintf(stderr,
          "airlock-exec: %s\n"
          "usage: airlock-exec --join <cgroup.procs>... [--user UID:GID] -- <cmd...>\n"
          "       airlock-exec [--join <cgroup.procs>...] [--user UID:GID] --args-fd N\n"
          "       airlock-exec [--join <cgroup.procs>...] [--enter PID] --jail [--nofile N] [--allow-userns]\n"
          "                    [--chdir DIR] [--uid N] [--gid N] -- <argv...>\n"
          "       airlock-exec --init\n"
          "       airlock-exec --dump-bpf [--allow-userns]\n",
          why);
  exit(EXIT_HELPER);
}

static unsigned long parse_num(const char *s, const char *opt) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') {
    fprintf(stderr, "airlock-exec: %s needs a number, got '%s'\n", opt, s);
    exit(EXIT_HELPER);
  }
  return v;
}

/* ---------- seccomp filter ---------- */

struct filter {
  struct sock_filter insn[MAX_INSNS];
  unsigned short len;
};

static void emit(struct filter *f, struct sock_filter i) {
  if (f->len >= MAX_INSNS) {
    fprintf(stderr, "airlock-exec: seccomp filter too long\n");
    exit(EXIT_HELPER);
  }
  f->insn[f->len++] = i;
}

#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define RET_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define RET_KILL BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/* Expects the syscall number in A; leaves it there. */
static void deny(struct filter *f, int nr, int err) {
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
  emit(f, (struct sock_filter)RET_ERRNO(err));
}

/* `nr` whose first argument has any bit of `bits` set fails with EPERM, otherwise it is allowed.
 * Expects the syscall number in A; when `nr` matches, A is overwritten but both branches return. */
static void deny_flag(struct filter *f, int nr, unsigned bits) {
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4));
  emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
  emit(f, (struct sock_filter)RET_ERRNO(EPERM));
  emit(f, (struct sock_filter)RET_ALLOW);
}

static const int denied_eperm[] = {
    /* kernel keyrings */
    SYS_add_key, SYS_request_key, SYS_keyctl,
    /* bpf, perf */
    SYS_bpf, SYS_perf_event_open,
    /* kernel modules */
    SYS_init_module, SYS_finit_module, SYS_delete_module,
#ifdef SYS_create_module
    SYS_create_module,
#endif
#ifdef SYS_query_module
    SYS_query_module,
#endif
#ifdef SYS_get_kernel_syms
    SYS_get_kernel_syms,
#endif
    /* mounts, old and new API */
    SYS_mount, SYS_umount2,
#ifdef SYS_umount
    SYS_umount,
#endif
    SYS_pivot_root, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_move_mount, SYS_open_tree,
    SYS_mount_setattr,
    /* kexec, reboot, swap */
    SYS_kexec_load, SYS_kexec_file_load, SYS_reboot, SYS_swapon, SYS_swapoff,
    /* clock setting */
    SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
    /* other namespaces */
    SYS_setns,
    /* what Docker's default profile blocks too and builds never need */
    SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_userfaultfd, SYS_io_uring_setup,
    SYS_io_uring_enter, SYS_io_uring_register, SYS_acct, SYS_quotactl,
#ifdef SYS_quotactl_fd
    SYS_quotactl_fd,
#endif
#ifdef SYS_lookup_dcookie
    SYS_lookup_dcookie,
#endif
#ifdef SYS_iopl
    SYS_iopl,
#endif
#ifdef SYS_ioperm
    SYS_ioperm,
#endif
#ifdef SYS_uselib
    SYS_uselib,
#endif
#ifdef SYS_ustat
    SYS_ustat,
#endif
#ifdef SYS_sysfs
    SYS_sysfs,
#endif
#ifdef SYS__sysctl
    SYS__sysctl,
#endif
#ifdef SYS_nfsservctl
    SYS_nfsservctl,
#endif
    SYS_syslog, SYS_vhangup,
};

/* personality() values Docker allows: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE (with and without
 * UNAME26), and the query 0xffffffff. Anything else (e.g. READ_IMPLIES_EXEC) fails. */
static void personality_rule(struct filter *f) {
  static const unsigned ok[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffffu};
  const unsigned n = sizeof ok / sizeof ok[0];
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, (unsigned char)(n + 3)));
  emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
  for (unsigned i = 0; i < n; i++) {
    /* the last compare falls through to "deny" when it does not match */
    unsigned char jt = (unsigned char)(n - 1 - i), jf = (unsigned char)(i == n - 1 ? 1 : 0);
    emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ok[i], jt, jf));
  }
  emit(f, (struct sock_filter)RET_ALLOW);
  emit(f, (struct sock_filter)RET_ERRNO(EPERM));
}

static void build_filter(struct filter *f, int allow_userns) {
  f->len = 0;
  emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AIRLOCK_AUDIT_ARCH, 1, 0));
  emit(f, (struct sock_filter)RET_KILL);
  emit(f, (struct sock_filter)LOAD_NR);
#ifdef AIRLOCK_X32_BIT
  emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, AIRLOCK_X32_BIT, 0, 1));
  emit(f, (struct sock_filter)RET_KILL);
#endif
  for (size_t i = 0; i < sizeof denied_eperm / sizeof denied_eperm[0]; i++) deny(f, denied_eperm[i], EPERM);
  deny(f, SYS_clone3, ENOSYS);
  if (!allow_userns) {
    /* each rule reloads A from the first argument and returns: the number checks come first */
    deny_flag(f, SYS_clone, CLONE_NEWUSER);
    deny_flag(f, SYS_unshare, CLONE_NEWUSER);
  }
  personality_rule(f);
  emit(f, (struct sock_filter)RET_ALLOW);
}

static void install_filter(int allow_userns) {
  static struct filter f;
  build_filter(&f, allow_userns);
  struct sock_fprog prog = {.len = f.len, .filter = f.insn};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) die("cannot install the seccomp filter", NULL);
}

static int dump_bpf(int allow_userns) {
  static struct filter f;
  build_filter(&f, allow_userns);
  const char *p = (const char *)f.insn;
  size_t left = (size_t)f.len * sizeof f.insn[0];
  while (left > 0) {
    ssize_t n = write(1, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write", NULL);
    }
    p += n;
    left -= (size_t)n;
  }
  return 0;
}

/* ---------- credentials ---------- */

static void drop_bounding_and_ambient(void) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    die("cannot clear ambient capabilities", NULL);
  for (int cap = 0; cap <= 63; cap++) {
    int set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (set < 0) break; /* past the last capability */
    if (set && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) die("cannot drop the capability bounding set", NULL);
  }
}

static void clear_capabilities(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capset, &h, d) != 0) die("cannot clear capabilities", NULL);
}

static void drop_groups(int required) {
  if (setgroups(0, NULL) == 0) return;
  /* In a user namespace whose setgroups is "deny" this fails: fine when there are none to drop. */
  if (required || getgroups(0, NULL) != 0) die("cannot drop supplementary groups", NULL);
}

static void switch_user(uid_t uid, gid_t gid) {
  if (setresgid(gid, gid, gid) != 0) die("setgid", NULL);
  if (setresuid(uid, uid, uid) != 0) die("setuid", NULL);
}

static int exec_or_die(char **argv) {
  execvp(argv[0], argv);
  int e = errno;
  fprintf(stderr, "airlock-exec: %s: %s\n", argv[0], strerror(e));
  return e == ENOENT || e == ENOTDIR ? 127 : 126;
}

/* ---------- entering a machine ---------- */

struct jail {
  unsigned long nofile, uid, gid;
  int allow_userns;
  const char *dir;
};


static const struct {
  const char *name;
  int type;
} ns_kinds[] = {
    {"mnt", CLONE_NEWNS},   {"pid", CLONE_NEWPID}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},  {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
};
#define N_NS (sizeof ns_kinds / sizeof ns_kinds[0])

static ino_t ns_ino(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat", "namespace");
  return st.st_ino;
}

static int open_ns(pid_t pid, const char *name, int optional) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, name);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !(optional && errno == ENOENT)) die("cannot open", p);
  return fd;
}

/* A non-user namespace of `pid`, or -1 when it is the one we are in already: nothing to join
 * (rootless podman on cgroup v1 leaves a container in the host's cgroup namespace, which an
 * unprivileged process may not setns into even though it is already there). */
static int open_other_ns(pid_t pid, const char *name, int optional) {
  int fd = open_ns(pid, name, optional);
  if (fd < 0) return fd;
  char p[64];
  snprintf(p, sizeof p, "/proc/self/ns/%s", name);
  int self = open(p, O_RDONLY | O_CLOEXEC);
  if (self < 0) die("cannot open", p);
  int same = ns_ino(self) == ns_ino(fd);
  close(self);
  if (same) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Joins what it may of the non-user namespaces still open in fds[]; returns how many are left. */
static int join_others(int fds[N_NS], int final) {
  int left = 0;
  for (size_t k = 0; k < N_NS; k++) {
    if (fds[k] < 0) continue;
    if (setns(fds[k], ns_kinds[k].type) == 0) {
      close(fds[k]);
      fds[k] = -1;
    } else if (final) {
      die("cannot join the machine's namespace", ns_kinds[k].name);
    } else {
      left++;
    }
  }
  return left;
}

/*
 * Joins every namespace of `pid` (the machine's PID 1), takes its root and working directory,
 * then forks: the child (in the machine's PID namespace) returns and goes on; the parent stays
 * outside, waits, and exits as the child did. Order matters: as host root, the mount, PID, ...
 * namespaces are joined first (we hold every capability over them from outside), the user
 * namespace last. Unprivileged, the machine's user namespaces are joined first, outermost first
 * (their owner is our uid, which gives us the capabilities the other joins need): bwrap
 * --disable-userns puts PID 1 in a user namespace nested inside the one owning the others.
 */
static void enter(pid_t pid, uid_t uid, gid_t gid) {
  int fds[N_NS];
  for (size_t k = 0; k < N_NS; k++) fds[k] = open_other_ns(pid, ns_kinds[k].name, ns_kinds[k].type == CLONE_NEWCGROUP);
  int self_user = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (self_user < 0) die("cannot open", "/proc/self/ns/user");
  int users[2] = {open_ns(pid, "user", 0), -1};
  int n_users = 1;
  if (ns_ino(users[0]) == ns_ino(self_user)) {
    close(users[0]);
    n_users = 0;
  } else {
    int parent = ioctl(users[0], NS_GET_PARENT);
    if (parent >= 0 && ns_ino(parent) != ns_ino(self_user)) {
      users[1] = users[0];
      users[0] = parent;
      n_users = 2;
    } else if (parent >= 0) {
      close(parent);
    }
  }
  close(self_user);
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/root", (int)pid);
  int root = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die("cannot open", p);
  snprintf(p, sizeof p, "/proc/%d/cwd", (int)pid);
  int cwd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0) die("cannot open", p);

  join_others(fds, 0);
  for (int u = 0; u < n_users; u++) {
    if (setns(users[u], CLONE_NEWUSER) != 0) die("cannot join the machine's namespace", "user");
    close(users[u]);
    join_others(fds, u == n_users - 1);
  }
  join_others(fds, 1);
  if (fchdir(root) != 0 || chroot(".") != 0) die("cannot take the machine's root", NULL);
  if (fchdir(cwd) != 0) die("cannot take the machine's working directory", NULL);
  close(root);
  close(cwd);

  pid_t child = fork();
  if (child < 0) die("fork", NULL);
  if (child == 0) return;
  /* The parent only waits. It is in the machine's user namespace now, where it must not stay
   * privileged: it becomes the job's user (no capabilities) too. */
  drop_bounding_and_ambient();
  drop_groups(0);
  switch_user(uid, gid);
  clear_capabilities();
  int status;
  for (;;) {
    pid_t r = waitpid(child, &status, WUNTRACED);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("waitpid", NULL);
    if (!WIFSTOPPED(status)) break;
    /* the step was stopped (^Z): stop as well, then let it go on with us */
    kill(getpid(), SIGSTOP);
    kill(child, SIGCONT);
  }
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file of ours */
    kill(getpid(), WTERMSIG(status));
  }
  exit(EXIT_HELPER);
}

/* ---------- the jail ---------- */

/* soft = hard = n. Raising the hard limit takes CAP_SYS_RESOURCE of the host, so this runs before
 * entering the machine; where we may not raise it, the limit stays the (lower) hard one we have. */
static void set_nofile(unsigned long n) {
  struct rlimit r = {.rlim_cur = n, .rlim_max = n};
  if (setrlimit(RLIMIT_NOFILE, &r) == 0) return;
  if (errno != EPERM || getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_max >= n)
    die("cannot set the open files limit", NULL);
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) != 0) die("cannot set the open files limit", NULL);
}

static int jail_and_exec(const struct jail *j, char **argv) {
  drop_bounding_and_ambient();
  drop_groups(0);
  switch_user((uid_t)j->uid, (gid_t)j->gid);
  clear_capabilities();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("cannot set no_new_privs", NULL);
  /* Only descriptors 0-2 go on (the agent leaves none open on purpose; be sure). */
  syscall(SYS_close_range, 3u, ~0u, 0u);
  if (j->dir && chdir(j->dir) != 0) {
    fprintf(stderr, "cd: %s: %s\n", j->dir, strerror(errno));
    return 127;
  }
  install_filter(j->allow_userns);
  return exec_or_die(argv);
}

/* ---------- the machine's PID 1 ---------- */

static int do_init(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) die("sigprocmask", NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd", NULL);
  if (write(1, "x", 1) != 1) die("write", NULL);
  struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll", NULL);
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
    }
    if (p[0].revents) {
      char buf[256];
      ssize_t n = read(0, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return 0;
    }
  }
}

/* Options of the combined modes; filled from argv and, with --args-fd, from the blob. */
struct opts {
  char **join;
  int n_join;
  int jail, have_user, args_fd;
  pid_t target;
  uid_t host_uid;
  gid_t host_gid;
  struct jail j;
  char **cmd;
};

/* Parses argv[0..argc) (options, then "-- cmd..."); from_blob: --join and --args-fd not allowed. */
static void parse_opts(struct opts *o, int argc, char **argv, int from_blob) {
  int i = 0;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i];
    int has_val = i + 1 < argc;
    if (strcmp(a, "--join") == 0 && !from_blob) {
      o->join = argv + i + 1;
      o->n_join = 0;
      while (i + 1 < argc && argv[i + 1][0] != '-') {
        if (argv[i + 1][0] != '/') usage("--join takes absolute paths of cgroup.procs files");
        i++;
        o->n_join++;
      }
    } else if (strcmp(a, "--args-fd") == 0 && has_val && !from_blob) {
      o->args_fd = (int)parse_num(argv[++i], "--args-fd");
      if (o->args_fd < 3) usage("--args-fd needs a descriptor above 2");
    } else if (strcmp(a, "--user") == 0 && has_val) {
      char *colon = strchr(argv[++i], ':');
      if (!colon) usage("--user needs UID:GID");
      *colon = '\0';
      o->host_uid = (uid_t)parse_num(argv[i], "--user");
      o->host_gid = (gid_t)parse_num(colon + 1, "--user");
      o->have_user = 1;
    } else if (strcmp(a, "--enter") == 0 && has_val) {
      o->target = (pid_t)parse_num(argv[++i], "--enter");
      if (o->target <= 0) usage("--enter needs a pid");
    } else if (strcmp(a, "--jail") == 0) {
      o->jail = 1;
    } else if (strcmp(a, "--allow-userns") == 0) {
      o->j.allow_userns = 1;
    } else if (strcmp(a, "--nofile") == 0 && has_val) {
      o->j.nofile = parse_num(argv[++i], "--nofile");
    } else if (strcmp(a, "--chdir") == 0 && has_val) {
      o->j.dir = argv[++i];
    } else if (strcmp(a, "--uid") == 0 && has_val) {
      o->j.uid = parse_num(argv[++i], "--uid");
    } else if (strcmp(a, "--gid") == 0 && has_val) {
      o->j.gid = parse_num(argv[++i], "--gid");
    } else {
      usage("unknown option or missing value");
    }
  }
  if (i < argc) {
    if (i >= argc - 1) usage("missing '-- <cmd>'");
    o->cmd = argv + i + 1;
  }
}

#define MAX_BLOB (16u << 20)

/*
 * --args-fd: reads the rest of the command from fd: NUL-terminated strings, first the number of
 * arguments and the number of environment entries (decimal), then the arguments (more options,
 * then "-- cmd..."), then the environment (NAME=value each), which replaces ours. Counted, so we
 * go on as soon as the last string is in, without waiting for end of file. End of file before
 * anything (the agent retired the zygote): exit 0 quietly.
 */
static void read_blob(struct opts *o) {
  size_t cap = 4096, len = 0, seen = 0, want = 0, have = 0;
  char *buf = malloc(cap);
  if (!buf) die("malloc", NULL);
  unsigned long n_args = 0, n_env = 0;
  for (;;) {
    /* Count the complete strings so far; after the two counts, we know how many to expect. */
    for (; seen < len; seen++) {
      if (buf[seen] != '\0') continue;
      have++;
      if (have == 2) {
        const char *first = buf;
        const char *second = buf + strlen(buf) + 1;
        n_args = parse_num(first, "--args-fd (argument count)");
        n_env = parse_num(second, "--args-fd (environment count)");
        if (n_args > (1u << 20) || n_env > (1u << 20)) usage("--args-fd: too many strings");
        want = 2 + n_args + n_env;
      }
    }
    if (have >= 2 && have >= want) break;
    if (len == cap) {
      if (cap >= MAX_BLOB) {
        fprintf(stderr, "airlock-exec: --args-fd: more than %u bytes\n", MAX_BLOB);
        exit(EXIT_HELPER);
      }
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) die("realloc", NULL);
    }
    ssize_t n = read(o->args_fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("cannot read --args-fd", NULL);
    if (n == 0) {
      if (len == 0) exit(0);
      usage("--args-fd: end of file before the whole command");
    }
    len += (size_t)n;
  }
  close(o->args_fd);
  if (have != want || buf[len - 1] != '\0') usage("--args-fd: bytes after the whole command");
  /* Separate NULL-terminated arrays: the command's argv must end where the arguments end. */
  char **args = calloc(n_args + 1, sizeof *args), **env = calloc(n_env + 1, sizeof *env);
  if (!args || !env) die("calloc", NULL);
  size_t k = strlen(buf) + 1;
  k += strlen(buf + k) + 1;
  for (size_t c = 0; c < n_args; c++, k += strlen(buf + k) + 1) args[c] = buf + k;
  for (size_t c = 0; c < n_env; c++, k += strlen(buf + k) + 1) env[c] = buf + k;
  if (o->cmd) usage("--args-fd: the command comes from the descriptor, not the command line");
  parse_opts(o, (int)n_args, args, 1);
  if (clearenv() != 0) die("clearenv", NULL);
  for (size_t k = 0; k < n_env; k++)
    if (strchr(env[k], '=') == NULL || putenv(env[k]) != 0) usage("--args-fd: bad environment entry");
}

int main(int argc, char **argv) {
  if (argc < 2) usage("no mode given");
  if (strcmp(argv[1], "--init") == 0 && argc == 2) return do_init();
  if (strcmp(argv[1], "--dump-bpf") == 0) return dump_bpf(argc > 2 && strcmp(argv[2], "--allow-userns") == 0);

  /* The rest combine, and run in this order: join, (read --args-fd), enter, jail, exec. */
  struct opts o = {.args_fd = -1, .j = {.nofile = 0, .uid = 1001, .gid = 1001, .allow_userns = 0, .dir = NULL}};
  parse_opts(&o, argc - 1, argv + 1, 0);
  if (o.args_fd < 0 && !o.cmd) usage("missing '-- <cmd>'");
  if (o.args_fd >= 0 && o.cmd) usage("--args-fd: the command comes from the descriptor, not the command line");

  for (int k = 0; k < o.n_join; k++) {
    int fd = open(o.join[k], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) die("cannot open", o.join[k]);
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (write(fd, buf, (size_t)n) != n) die("cannot join cgroup", o.join[k]);
    close(fd);
  }
  /* A zygote: in its cgroups ahead of time, it waits here for the rest of its command. */
  if (o.args_fd >= 0) {
    read_blob(&o);
    if (!o.cmd) usage("--args-fd: missing '-- <cmd>'");
  }
  struct jail *j = &o.j;
  if (!o.jail && (j->allow_userns || j->nofile || j->dir || j->uid != 1001 || j->gid != 1001))
    usage("--nofile, --allow-userns, --chdir, --uid and --gid go with --jail");
  if (o.jail && (j->uid == 0 || j->gid == 0)) usage("--jail never runs as root");
  if (o.have_user && o.target) usage("--user does not go with --enter (the job's user comes from --uid/--gid)");

  /* Unprivileged with --enter (rootless podman): the host refuses setgroups; both sides drop
   * them in the machine's user namespace instead, where we hold CAP_SETGID (enter, jail). */
  if (!o.target || geteuid() == 0) drop_groups(o.have_user && geteuid() == 0);
  if (o.jail && j->nofile > 0) set_nofile(j->nofile);
  if (o.target) enter(o.target, (uid_t)j->uid, (gid_t)j->gid);
  else if (o.have_user) switch_user(o.host_uid, o.host_gid);
  if (o.jail) return jail_and_exec(j, o.cmd);
  return exec_or_die(o.cmd);
}
