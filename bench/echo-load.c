/*
 * The reference load generator for bench/echo.ts: a closed loop over epoll, as small as a
 * load generator can be, so that it is never the bottleneck. N connections, each sends a
 * message of SIZE bytes, reads the whole echo back, checks it and sends again, M times.
 *
 *   cc -O2 -o echo-load echo-load.c && ./echo-load HOST PORT CLIENTS MESSAGES SIZE
 *
 * Prints one JSON line in the shape of `mesh loadtest --json` (latencies in microseconds,
 * from every message, sorted exactly). Connection failures and wrong echoes are counted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
  int fd;
  int sent;       /* messages sent */
  int got;        /* bytes of the current echo received */
  int done;
  double since;   /* when the current message was sent */
};

static double now_us (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double (const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main (int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: echo-load HOST PORT CLIENTS MESSAGES SIZE\n"); return 2; }
  const char *host = argv[1];
  int port = atoi(argv[2]), clients = atoi(argv[3]), messages = atoi(argv[4]), size = atoi(argv[5]);
  if (port <= 0 || clients <= 0 || messages <= 0 || size <= 0) { fprintf(stderr, "echo-load: bad arguments\n"); return 2; }
  char *payload = malloc(size), *buf = malloc(size);
  for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
  double *lat = malloc(sizeof(double) * (size_t)clients * messages);
  long nlat = 0, refused = 0, reset = 0, wrong = 0;
  struct client *cs = calloc(clients, sizeof *cs);
  int ep = epoll_create1(0);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &addr.sin_addr);
  double start = now_us();
  int live = 0;
  for (int i = 0; i < clients; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Blocking connect, then non-blocking I/O: simple, and loopback connects are instant. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { refused++; close(fd); cs[i].fd = -1; cs[i].done = 1; continue; }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    cs[i].fd = fd;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    cs[i].since = now_us();
    if (write(fd, payload, size) != size) { reset++; close(fd); cs[i].done = 1; continue; }
    cs[i].sent = 1;
    live++;
  }
  struct epoll_event evs[256];
  while (live > 0) {
    int n = epoll_wait(ep, evs, 256, 10000);
    if (n <= 0) break;
    for (int k = 0; k < n; k++) {
      struct client *c = &cs[evs[k].data.u32];
      if (c->done) continue;
      ssize_t r = read(c->fd, buf, size - c->got);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        reset++; c->done = 1; live--; close(c->fd); continue;
      }
      if (memcmp(buf, payload + c->got, r) != 0) { wrong++; c->done = 1; live--; close(c->fd); continue; }
      c->got += r;
      if (c->got < size) continue;
      double t = now_us();
      lat[nlat++] = t - c->since;
      c->got = 0;
      if (c->sent == messages) { c->done = 1; live--; close(c->fd); continue; }
      c->since = t;
      if (write(c->fd, payload, size) != size) { reset++; c->done = 1; live--; close(c->fd); continue; }
      c->sent++;
    }
  }
  double seconds = (now_us() - start) / 1e6;
  qsort(lat, nlat, sizeof(double), cmp_double);
#define AT(p) (nlat ? (long)lat[(long)((nlat - 1) * (p))] : 0)
  printf("{\"clients\":%d,\"messages\":%ld,\"seconds\":%.3f,\"rps\":%ld,"
         "\"errors\":{\"refused\":%ld,\"reset\":%ld,\"wrong_echo\":%ld},"
         "\"latencyUs\":{\"p50\":%ld,\"p90\":%ld,\"p99\":%ld,\"p999\":%ld,\"max\":%ld}}\n",
         clients, nlat, seconds, (long)(nlat / seconds), refused, reset, wrong,
         AT(0.5), AT(0.9), AT(0.99), AT(0.999), nlat ? (long)lat[nlat - 1] : 0);
  return 0;
}
