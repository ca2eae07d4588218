/* forkbomb CAP: forks children that wait for death, until fork fails or CAP processes exist.
 * Prints how many it got and why it stopped; kills them all. Exit 0 (an escape) when it reached
 * CAP, i.e. nothing limited the number of processes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long cap = argc > 1 ? atol(argv[1]) : 10000, n = 0;
  pid_t *kids = calloc((size_t)cap, sizeof(pid_t));
  int err = 0;
  while (n < cap) {
    pid_t p = fork();
    if (p < 0) { err = errno; break; }
    if (p == 0) { for (;;) pause(); }
    kids[n++] = p;
  }
  for (long i = 0; i < n; i++) kill(kids[i], SIGKILL);
  if (n >= cap) { printf("created all %ld processes\n", n); return 0; }
  printf("fork failed after %ld processes: %s\n", n, strerror(err));
  return 1;
}
