/*
 * airlock-guest: PID 1 of a VM machine (src/provisioners/vm), started by the initramfs's /init
 * once the job's root is mounted at --root. It talks to the host over one virtio-serial port
 * (--port, a /dev/vportNpM) with small frames, and never runs anything the host did not ask for:
 *
 *   frame = u32 payload length (LE) | u8 type | u32 channel (LE) | payload (<= 64 KiB)
 *
 *   host -> guest: EXEC(chan, u32 n + n NUL-terminated strings: mode, then the mode's arguments),
 *                  STDIN(chan, bytes), STDIN_EOF(chan), KILL(chan), HELLO,
 *                  CONN_DATA(chan, bytes), CONN_EOF(chan), LIMITS(chan)
 *   guest -> host: READY(/proc/uptime), OUT/ERR(chan, bytes), EXIT(chan, "e<code>" | "s<signal>"),
 *                  LIMITS_R(chan, "pids <times pids.max refused a fork> oom <OOM kills> free <KiB free on the scratch disk>"),
 *                  CONN_OPEN(chan, u8 0 = egress, 1 = job services), CONN_DATA, CONN_EOF
 *
 * Modes of EXEC, each run in a forked child that joins its own cgroup (job/e<chan>: KILL writes
 * its cgroup.kill, so a step's whole process tree dies, daemons included), chroots into --root,
 * and becomes --uid/--gid with RLIMIT_NOFILE --nofile before doing anything the job asked:
 *   exec   <cwd> <argc> argv... <envc> env...   execvp with exactly that environment
 *   read   <path> <maxBytes>                    the file on stdout; exit 2 absent, 3 too large, 4 not a file
 *   copyin <dest> <replace 0|1> [scratch]       a copy stream on stdin (see copy_in) written at dest
 *                                               (scratch: dest is in the scratch disk, e.g. /actions)
 * Output is forwarded as it comes; when the process exits, what is left in its pipes is read and
 * sent before EXIT, and the pipes are closed (a background process writing later gets EPIPE).
 *
 * When the host closes its end of the port (the agent exited, or died), the guest powers off, so
 * QEMU exits too: no machine outlives its agent.
 *
 * With --egress / --services it listens on 127.0.0.1:3128 / 3129 and carries each connection over
 * the port to the host, which connects it to the machine's egress proxy / job services socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
  T_EXEC = 1, T_STDIN = 2, T_STDIN_EOF = 3, T_KILL = 4, T_HELLO = 5, T_LIMITS = 6,
  T_CONN_DATA = 10, T_CONN_EOF = 11,
  T_READY = 20, T_OUT = 21, T_ERR = 22, T_EXIT = 23, T_CONN_OPEN = 24, T_LIMITS_R = 25,
};
#define MAX_PAYLOAD 65536
#define HDR 9
#define MAX_SLOTS 512
#define CGROUP "/sys/fs/cgroup/job"

struct buf { char *data; size_t len, off; };
struct slot {
  int used, is_conn, rd_eof, wr_eof, eof_pending;
  uint32_t chan;
  pid_t pid;
  int in, out, err; /* exec: pipes; conn: in = out = the socket */
  struct buf q;      /* bytes waiting to be written to `in` */
};

static struct slot slots[MAX_SLOTS];
static int port = -1;
static const char *root = "/newroot";
static uid_t job_uid = 1001;
static gid_t job_gid = 1001;
static long nofile = -1;
static uint32_t next_conn = 0x80000000u;
extern char **environ;

static void die(const char *what) {
  fprintf(stderr, "airlock-guest: %s: %s\n", what, strerror(errno));
  exit(125);
}

static void write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { struct pollfd pf = {fd, POLLOUT, 0}; poll(&pf, 1, -1); continue; }
      die("write to host");
    }
    c += w;
    n -= (size_t)w;
  }
}

static void send_frame(uint8_t type, uint32_t chan, const void *p, size_t n) {
  unsigned char h[HDR];
  uint32_t len = (uint32_t)n;
  memcpy(h, &len, 4);
  h[4] = type;
  memcpy(h + 5, &chan, 4);
  write_all(port, h, HDR);
  if (n) write_all(port, p, n);
}

static struct slot *find(uint32_t chan) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].used && slots[i].chan == chan) return &slots[i];
  return NULL;
}

static struct slot *alloc_slot(void) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (!slots[i].used) {
      memset(&slots[i], 0, sizeof slots[i]);
      slots[i].used = 1;
      slots[i].in = slots[i].out = slots[i].err = -1;
      return &slots[i];
    }
  return NULL;
}

static void enqueue(struct slot *s, const char *p, size_t n) {
  if (s->in < 0) return;
  if (s->q.off > 0 && s->q.off == s->q.len) s->q.off = s->q.len = 0;
  s->q.data = realloc(s->q.data, s->q.len + n);
  if (!s->q.data) die("realloc");
  memcpy(s->q.data + s->q.len, p, n);
  s->q.len += n;
}

static void close_fd(int *fd) { if (*fd >= 0) close(*fd); *fd = -1; }

static void free_slot(struct slot *s) {
  if (s->is_conn) close_fd(&s->in);
  else { close_fd(&s->in); close_fd(&s->out); close_fd(&s->err); }
  free(s->q.data);
  s->used = 0;
}

/* ---- in the child: the job's side ---- */

static int safe_rel(const char *p) {
  if (p[0] == '/') return 0;
  for (const char *c = p; *c;) {
    if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == 0)) return 0;
    const char *n = strchr(c, '/');
    if (!n) break;
    c = n + 1;
  }
  return 1;
}

static void mkdirs(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *c = tmp + 1; *c; c++)
    if (*c == '/') { *c = 0; mkdir(tmp, 0755); *c = '/'; }
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st; (void)f;
  if (flag == FTW_DP) rmdir(p); else unlink(p);
  return 0;
}

static int read_exact(int fd, void *p, size_t n) {
  char *c = p;
  while (n > 0) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r; n -= (size_t)r;
  }
  return 0;
}

/* Copy stream: records of u8 kind ('d' folder, 'f' file, 'l' symlink, 0 end), u32 mode,
 * u32 path length, path (relative to dest, "" = dest itself), u64 size, then size bytes (file
 * content or symlink target). */
static int copy_in(const char *dest, int replace) {
  if (replace) nftw(dest, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  mkdirs(dest);
  char path[4096], full[8192], buf[65536];
  for (;;) {
    unsigned char kind;
    uint32_t mode, plen;
    uint64_t size;
    if (read_exact(0, &kind, 1) < 0) return 1;
    if (kind == 0) return 0;
    if (read_exact(0, &mode, 4) < 0 || read_exact(0, &plen, 4) < 0 || plen >= sizeof path) return 1;
    if (read_exact(0, path, plen) < 0) return 1;
    path[plen] = 0;
    if (read_exact(0, &size, 8) < 0) return 1;
    if (!safe_rel(path)) { fprintf(stderr, "airlock: bad path %s\n", path); return 1; }
    snprintf(full, sizeof full, plen ? "%s/%s" : "%s", dest, path);
    if (kind == 'd') {
      if (mkdir(full, mode & 07777) != 0 && errno != EEXIST) { perror(full); return 1; }
    } else if (kind == 'l') {
      if (size >= sizeof buf || read_exact(0, buf, size) < 0) return 1;
      buf[size] = 0;
      unlink(full);
      if (symlink(buf, full) != 0) { perror(full); return 1; }
    } else if (kind == 'f') {
      int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
      if (fd < 0) { perror(full); return 1; }
      while (size > 0) {
        size_t n = size > sizeof buf ? sizeof buf : size;
        if (read_exact(0, buf, n) < 0) return 1;
        write_all(fd, buf, n);
        size -= n;
      }
      fchmod(fd, mode & 07777);
      close(fd);
    } else return 1;
  }
}

static int read_file(const char *path, long long max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return (errno == ENOENT || errno == ENOTDIR) ? 2 : (perror(path), 1);
  struct stat st;
  if (fstat(fd, &st) != 0) return 1;
  if (!S_ISREG(st.st_mode)) return 4;
  if (st.st_size > max) return 3;
  char buf[65536];
  ssize_t r;
  long long total = 0;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    total += r;
    if (total > max) return 3;
    write_all(1, buf, (size_t)r);
  }
  return r < 0 ? 1 : 0;
}

static void child(uint32_t chan, char **a, int n) {
  char cg[256];
  mkdir(CGROUP, 0755);
  snprintf(cg, sizeof cg, CGROUP "/e%u/cgroup.procs", chan);
  int fd = open(cg, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) { (void)!write(fd, "0", 1); close(fd); }
  /* copyin into the actions folder (read-only in the job's root): chrooted in the scratch disk. */
  const char *r = (n == 4 && strcmp(a[3], "scratch") == 0) ? "/scratch" : root;
  if (chroot(r) != 0 || chdir("/") != 0) { perror("airlock: chroot"); _exit(127); }
  /* Processes are limited by the job's pids.max, not by the per-user default (half of threads-max). */
  struct rlimit unl = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_NPROC, &unl);
  if (setgroups(0, NULL) != 0 || setgid(job_gid) != 0 || setuid(job_uid) != 0) { perror("airlock: setuid"); _exit(127); }
  if (nofile > 0) { struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile}; setrlimit(RLIMIT_NOFILE, &rl); }
  signal(SIGPIPE, SIG_DFL);
  const char *mode = a[0];
  if (strcmp(mode, "read") == 0 && n == 3) _exit(read_file(a[1], atoll(a[2])));
  if (strcmp(mode, "copyin") == 0 && n >= 3) _exit(copy_in(a[1], atoi(a[2])));
  if (strcmp(mode, "exec") != 0 || n < 3) _exit(126);
  const char *cwd = a[1];
  int argc = atoi(a[2]);
  if (argc < 1 || 3 + argc >= n) _exit(126);
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  for (int i = 0; i < argc; i++) argv[i] = a[3 + i];
  int envc = atoi(a[3 + argc]);
  if (envc < 0 || 4 + argc + envc > n) _exit(126);
  char **envp = calloc((size_t)envc + 1, sizeof *envp);
  for (int i = 0; i < envc; i++) envp[i] = a[4 + argc + i];
  if (chdir(cwd) != 0) { fprintf(stderr, "airlock: cannot enter %s: %s\n", cwd, strerror(errno)); _exit(127); }
  environ = envp;
  execvp(argv[0], argv);
  fprintf(stderr, "airlock: %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* ---- in PID 1 ---- */

static void start(uint32_t chan, const char *p, size_t n) {
  if (n < 4 || find(chan)) return;
  uint32_t count;
  memcpy(&count, p, 4);
  char **a = calloc(count + 1, sizeof *a);
  size_t off = 4;
  for (uint32_t i = 0; i < count; i++) {
    const char *z = memchr(p + off, 0, n - off);
    if (!z) { free(a); return; }
    a[i] = (char *)p + off;
    off = (size_t)(z - p) + 1;
  }
  struct slot *s = alloc_slot();
  if (!s || count == 0) { free(a); send_frame(T_EXIT, chan, "e126", 4); if (s) s->used = 0; return; }
  char cg[256];
  snprintf(cg, sizeof cg, CGROUP "/e%u", chan);
  mkdir(cg, 0755);
  int pi[2], po[2], pe[2];
  if (pipe2(pi, O_CLOEXEC) || pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setsid();
    dup2(pi[0], 0); dup2(po[1], 1); dup2(pe[1], 2);
    child(chan, a, (int)count);
  }
  free(a);
  close(pi[0]); close(po[1]); close(pe[1]);
  fcntl(pi[1], F_SETFL, O_NONBLOCK);
  fcntl(po[0], F_SETFL, O_NONBLOCK);
  fcntl(pe[0], F_SETFL, O_NONBLOCK);
  s->chan = chan; s->pid = pid; s->in = pi[1]; s->out = po[0]; s->err = pe[0];
}

static void kill_slot(struct slot *s) {
  char cg[256];
  snprintf(cg, sizeof cg, CGROUP "/e%u/cgroup.kill", s->chan);
  int fd = open(cg, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) { (void)!write(fd, "1", 1); close(fd); }
  if (s->pid > 0) kill(-s->pid, SIGKILL);
}

/* Forwards what `fd` has now; returns 0 at EOF. */
static int pump(int *fd, uint8_t type, uint32_t chan, int drain) {
  char buf[MAX_PAYLOAD];
  for (;;) {
    ssize_t r = read(*fd, buf, sizeof buf);
    if (r > 0) { send_frame(type, chan, buf, (size_t)r); if (!drain) return 1; continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 1;
    return 0;
  }
}

static void reaped(pid_t pid, int status) {
  for (int i = 0; i < MAX_SLOTS; i++) {
    struct slot *s = &slots[i];
    if (!s->used || s->is_conn || s->pid != pid) continue;
    if (s->out >= 0) pump(&s->out, T_OUT, s->chan, 1);
    if (s->err >= 0) pump(&s->err, T_ERR, s->chan, 1);
    char r[16];
    int n = WIFSIGNALED(status) ? snprintf(r, sizeof r, "s%d", WTERMSIG(status))
                                : snprintf(r, sizeof r, "e%d", WEXITSTATUS(status));
    send_frame(T_EXIT, s->chan, r, (size_t)n);
    char cg[256];
    snprintf(cg, sizeof cg, CGROUP "/e%u", s->chan);
    rmdir(cg); /* fails while a background process lives on: it stays until the machine dies */
    free_slot(s);
  }
}

static void report_limits(uint32_t chan);

static void conn_eof_from_host(struct slot *s) {
  s->eof_pending = 1;
  if (s->q.off == s->q.len) { shutdown(s->in, SHUT_WR); s->wr_eof = 1; s->eof_pending = 0; }
  if (s->rd_eof && s->wr_eof) free_slot(s);
}

static void on_frame(uint8_t type, uint32_t chan, const char *p, size_t n) {
  struct slot *s;
  switch (type) {
  case T_HELLO: {
    char up[64] = "";
    int fd = open("/proc/uptime", O_RDONLY);
    if (fd >= 0) { ssize_t r = read(fd, up, sizeof up - 1); if (r > 0) up[r] = 0; close(fd); }
    send_frame(T_READY, 0, up, strlen(up));
    break;
  }
  case T_EXEC: start(chan, p, n); break;
  case T_STDIN: case T_CONN_DATA: if ((s = find(chan))) enqueue(s, p, n); break;
  case T_STDIN_EOF:
    if ((s = find(chan)) && s->in >= 0) { if (s->q.off == s->q.len) close_fd(&s->in); else s->eof_pending = 1; }
    break;
  case T_KILL: if ((s = find(chan)) && !s->is_conn) kill_slot(s); break;
  case T_LIMITS: report_limits(chan); break;
  case T_CONN_EOF: if ((s = find(chan)) && s->is_conn) conn_eof_from_host(s); break;
  }
}

/* The first number after `key` in file `path`, or 0. */
static long long counter(const char *path, const char *key) {
  char buf[8192];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return 0;
  buf[r] = 0;
  size_t k = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, key, k) == 0 && line[k] == ' ') return atoll(line + k + 1);
  return 0;
}

static void report_limits(uint32_t chan) {
  struct statvfs sv;
  long long free_kb = statvfs("/scratch", &sv) == 0 ? (long long)sv.f_bavail * (long long)sv.f_frsize / 1024 : -1;
  char r[160];
  int n = snprintf(r, sizeof r, "pids %lld oom %lld free %lld", counter(CGROUP "/pids.events", "max"),
                   counter("/proc/vmstat", "oom_kill"), free_kb);
  send_frame(T_LIMITS_R, chan, r, (size_t)n);
}

static int listen_on(int p) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) die("listen");
  return fd;
}

int main(int argc, char **argv) {
  const char *port_path = NULL;
  int lis[2] = {-1, -1};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port_path = argv[++i];
    else if (!strcmp(argv[i], "--root") && i + 1 < argc) root = argv[++i];
    else if (!strcmp(argv[i], "--uid") && i + 1 < argc) job_uid = (uid_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--gid") && i + 1 < argc) job_gid = (gid_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--nofile") && i + 1 < argc) nofile = atol(argv[++i]);
    else if (!strcmp(argv[i], "--egress")) lis[0] = 3128;
    else if (!strcmp(argv[i], "--services")) lis[1] = 3129;
    else { fprintf(stderr, "airlock-guest: unknown argument %s\n", argv[i]); return 125; }
  }
  if (!port_path) { fprintf(stderr, "airlock-guest: --port is required\n"); return 125; }
  signal(SIGPIPE, SIG_IGN);
  port = open(port_path, O_RDWR | O_CLOEXEC);
  if (port < 0) die(port_path);
  for (int i = 0; i < 2; i++) if (lis[i] > 0) lis[i] = listen_on(lis[i]);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  on_frame(T_HELLO, 0, NULL, 0);
  static char in[HDR + MAX_PAYLOAD];
  size_t have = 0;
  struct pollfd pf[4 + 3 * MAX_SLOTS];
  struct slot *owner[4 + 3 * MAX_SLOTS];
  for (;;) {
    int n = 0;
    pf[n++] = (struct pollfd){port, POLLIN, 0};
    pf[n++] = (struct pollfd){sfd, POLLIN, 0};
    for (int i = 0; i < 2; i++) pf[n++] = (struct pollfd){lis[i], POLLIN, 0};
    for (int i = 0; i < MAX_SLOTS; i++) {
      struct slot *s = &slots[i];
      if (!s->used) continue;
      if (s->is_conn) {
        short ev = (short)((s->rd_eof ? 0 : POLLIN) | (s->q.off < s->q.len ? POLLOUT : 0));
        owner[n] = s; pf[n++] = (struct pollfd){s->in, ev, 0};
        continue;
      }
      if (s->in >= 0 && s->q.off < s->q.len) { owner[n] = s; pf[n++] = (struct pollfd){s->in, POLLOUT, 0}; }
      if (s->out >= 0) { owner[n] = s; pf[n++] = (struct pollfd){s->out, POLLIN, 0}; }
      if (s->err >= 0) { owner[n] = s; pf[n++] = (struct pollfd){s->err, POLLIN, 0}; }
    }
    if (poll(pf, (nfds_t)n, -1) < 0) { if (errno == EINTR) continue; die("poll"); }
    if (pf[0].revents) {
      ssize_t r = read(port, in + have, sizeof in - have);
      if (r < 0 && errno != EAGAIN && errno != EINTR) die("read from host");
      if (r > 0) have += (size_t)r;
      for (;;) {
        if (have < HDR) break;
        uint32_t len, chan;
        memcpy(&len, in, 4);
        memcpy(&chan, in + 5, 4);
        if (len > MAX_PAYLOAD) { errno = EPROTO; die("frame"); }
        if (have < HDR + len) break;
        on_frame((uint8_t)in[4], chan, in + HDR, len);
        memmove(in, in + HDR + len, have - HDR - len);
        have -= HDR + len;
      }
      /* The host end closed (the agent exited or died): nothing may outlive it, power off. */
      if (r == 0) { sync(); reboot(RB_POWER_OFF); }
    }
    if (pf[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      int st;
      pid_t pid;
      while ((pid = waitpid(-1, &st, WNOHANG)) > 0) reaped(pid, st);
    }
    for (int i = 0; i < 2; i++) {
      if (!pf[2 + i].revents) continue;
      int c = accept4(lis[i], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) continue;
      struct slot *s = alloc_slot();
      if (!s) { close(c); continue; }
      s->is_conn = 1; s->in = c; s->chan = next_conn++;
      if (next_conn == 0) next_conn = 0x80000000u;
      unsigned char which = (unsigned char)i;
      send_frame(T_CONN_OPEN, s->chan, &which, 1);
    }
    for (int k = 4; k < n; k++) {
      struct slot *s = owner[k];
      short re = pf[k].revents;
      if (!re || !s->used) continue;
      int fd = pf[k].fd;
      if ((re & POLLOUT) || ((re & (POLLERR | POLLHUP)) && fd == s->in && !s->is_conn)) {
        ssize_t w = write(fd, s->q.data + s->q.off, s->q.len - s->q.off);
        if (w > 0) s->q.off += (size_t)w;
        else if (w < 0 && errno != EAGAIN) { s->q.off = s->q.len; if (!s->is_conn) close_fd(&s->in); }
        if (s->q.off == s->q.len && s->eof_pending) {
          if (s->is_conn) conn_eof_from_host(s);
          else close_fd(&s->in);
          if (!s->used) continue;
        }
      }
      if (s->is_conn && (re & (POLLIN | POLLHUP | POLLERR)) && !s->rd_eof) {
        if (!pump(&s->in, T_CONN_DATA, s->chan, 0)) {
          s->rd_eof = 1;
          send_frame(T_CONN_EOF, s->chan, NULL, 0);
          if (re & POLLERR) s->wr_eof = 1;
          if (s->wr_eof) free_slot(s);
        }
      } else if (!s->is_conn && fd == s->out && (re & (POLLIN | POLLHUP))) {
        if (!pump(&s->out, T_OUT, s->chan, 0)) close_fd(&s->out);
      } else if (!s->is_conn && fd == s->err && (re & (POLLIN | POLLHUP))) {
        if (!pump(&s->err, T_ERR, s->chan, 0)) close_fd(&s->err);
      }
    }
  }
}
