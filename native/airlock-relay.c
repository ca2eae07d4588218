/*
 * airlock-relay: carries a machine's proxy connections out of its network namespace.
 *
 *   nsenter --target <machine init pid> --net [--user --preserve-credentials] -- \
 *     airlock-relay --listen <port> --connect <unix socket path> [--max <n>]
 *     airlock-relay --listen <port> --connect-port <port> [--max <n>]
 *
 * Started by the provisioner in the machine's network namespace (which has only `lo`) but
 * outside its PID namespace, so the job can neither see, signal nor ptrace it. It listens on
 * 127.0.0.1:<port> inside the machine and, for each connection, opens the machine's own unix
 * socket of the egress proxy on the host (a path in the host's filesystem: pathname sockets do
 * not belong to a network namespace) and copies bytes both ways. It understands nothing of
 * what it carries: every decision is the proxy's.
 *
 * With --connect-port it forwards to 127.0.0.1:<port> of the same network namespace instead: a
 * job service's published port (`ports: ["8080:80"]`) answers on 8080 as well as on 80.
 *
 * After binding it clears its capability bounding set and every capability, sets no_new_privs
 * and makes itself non-dumpable. It dies with its parent (PR_SET_PDEATHSIG), and so do its
 * per-connection children. At most --max connections (default 256) at once; more are closed.
 * Prints "ready\n" on stdout once listening. Exit 125 on a usage or set-up error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t active = 0;

static void die(const char *what) {
  fprintf(stderr, "airlock-relay: %s: %s\n", what, strerror(errno));
  exit(125);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) active--;
  errno = saved;
}

static void drop_privileges(void) {
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM) die("capbset");
  }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &hdr, data) != 0) die("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("dumpable");
}

/* Writes all of buf; 0 on success. */
static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= w;
  }
  return 0;
}

/* Copies both ways until both directions have ended (half-closes are passed on). */
static void pump(int a, int b) {
  static char buf[65536];
  int open_a = 1, open_b = 1;
  while (open_a || open_b) {
    struct pollfd p[2] = {{a, open_a ? POLLIN : 0, 0}, {b, open_b ? POLLIN : 0, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      int from = i == 0 ? a : b, to = i == 0 ? b : a;
      int *open = i == 0 ? &open_a : &open_b;
      if (!*open || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(from, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n < 0) return;
        *open = 0;
        shutdown(to, SHUT_WR);
        continue;
      }
      if (write_all(to, buf, n) != 0) return;
    }
  }
}

static void serve(int client, const char *path, long to_port) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int up;
  if (path) {
    up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (up < 0) _exit(1);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path));
    if (connect(up, (struct sockaddr *)&addr, sizeof addr) != 0) _exit(1);
  } else {
    up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (up < 0) _exit(1);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)to_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(up, (struct sockaddr *)&to, sizeof to) != 0) _exit(1);
  }
  pump(client, up);
  _exit(0);
}

int main(int argc, char **argv) {
  long port = 0, max = 256, to_port = 0;
  const char *path = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--listen") == 0) port = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--connect") == 0) path = argv[i + 1];
    else if (strcmp(argv[i], "--connect-port") == 0) to_port = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--max") == 0) max = strtol(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "airlock-relay: unknown option %s\n", argv[i]);
      return 125;
    }
  }
  int one_target = (path != NULL) != (to_port != 0);
  if (argc % 2 != 1 || port < 1 || port > 65535 || !one_target || to_port < 0 || to_port > 65535 || max < 1) {
    fprintf(stderr, "usage: airlock-relay --listen <port> (--connect <unix socket> | --connect-port <port>) [--max <n>]\n");
    return 125;
  }
  if (path && strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    fprintf(stderr, "airlock-relay: socket path too long\n");
    return 125;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die("pdeathsig");
  if (getppid() == 1) return 125; /* the parent is already gone */

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) die("socket");
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&sin, sizeof sin) != 0) die("bind");
  if (listen(ls, 128) != 0) die("listen");
  drop_privileges();

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (write_all(1, "ready\n", 6) != 0) die("ready");
  for (;;) {
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EMFILE || errno == ENFILE) usleep(10000);
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      die("accept");
    }
    if (active >= max) {
      close(c);
      continue;
    }
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid_t pid = fork();
    if (pid == 0) {
      sigprocmask(SIG_SETMASK, &old, NULL);
      close(ls);
      serve(c, path, to_port);
    }
    if (pid > 0) active++;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(c);
  }
}
