/*
 * An open-loop load generator for the gateway's line protocol, in C over epoll, so that the
 * generator takes little of the CPU the gateway needs and adds no event-loop lateness of its
 * own. Request k of the run is due at start + k / RATE and goes to connection k mod CLIENTS,
 * written on its own (one write per request line); its latency counts from when it was due,
 * not from when it was written (as wrk2 does), so a stall of the server or of this generator
 * is charged to every request it held up: coordinated omission corrected. A connection may
 * have many requests in flight: the schedule never waits for an answer.
 *
 *   cc -O2 -o gateway-open-load gateway-open-load.c
 *   ./gateway-open-load HOST PORT CLIENTS RATE SECONDS WARMUP_SECONDS 'REQUEST LINE' [TICK_US]
 *
 * The first WARMUP_SECONDS of the schedule run the same load and are left out of every
 * figure (their answers and wrong answers are counted apart, under "warmup"). It wakes at
 * most every TICK_US (default 50) and then writes every request due by then; how late that
 * makes a request is charged like any other lateness. Prints one JSON line in the shape of
 * `mesh loadtest --json` (latencies in whole microseconds, exact percentiles of every
 * answer, sorted), plus how late this generator wrote its requests (sendLateUs) and the CPU
 * it used (getrusage, as a share of one core). An answer is right when its line
 * starts with {"ok":true; a wrong one, a reset and a request still unanswered 10 s after the
 * end are counted, and so is a request not written because its connection already had
 * MAX_IN_FLIGHT waiting (a server hopelessly behind).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_IN_FLIGHT 8192       /* per connection: a ring of due times */
#define OUT_BYTES (1 << 16)      /* per connection: request bytes the kernel did not take yet */
#define DRAIN_S 10.0             /* after the last due time, how long answers are awaited */
#define OK_PREFIX "{\"ok\":true"
#define OK_LEN 10
#define TIMER_TAG UINT32_MAX
/* Wake-ups at most this often (µs): at 36,000 requests/s under SCHED_FIFO, one wake-up per
 * request took 93% of a core and fell 34-42 ms behind at p99; every 50 µs, 79-83% and 0.1 ms. */
#define DEFAULT_TICK_US 50

struct conn {
  int fd;
  int dead;
  double due[MAX_IN_FLIGHT];     /* due times of the requests in flight, oldest first */
  int head, count;
  char prefix[OK_LEN];           /* the first bytes of the answer line being read */
  int prefix_len;
  char out[OUT_BYTES];
  int out_len;
  int want_out;                  /* waiting for EPOLLOUT */
};

static double now_s (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double (const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long at (const double *xs, long n, double p) { return n ? (long)(xs[(long)((n - 1) * p)] * 1e6) : 0; }

static long nlat = 0, nlate = 0, warm_answers = 0, warm_wrong = 0, wrong = 0, reset = 0, overflow = 0, sent = 0;
static double *lat, *late;
static double measure_from, end_at;

static void kill_conn (struct conn *c, int ep) {
  if (c->dead) return;
  c->dead = 1;
  reset += c->count;
  c->count = 0;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

/* Writes what is queued; on a full socket buffer, waits for EPOLLOUT (asked only then: one syscall per request otherwise). */
static void flush_out (struct conn *c, int ep, uint32_t index) {
  while (c->out_len > 0) {
    ssize_t w = write(c->fd, c->out, c->out_len);
    if (w < 0) {
      if (errno != EAGAIN) { kill_conn(c, ep); return; }
      if (!c->want_out) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = index };
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = 1;
      }
      return;
    }
    memmove(c->out, c->out + w, c->out_len - w);
    c->out_len -= (int)w;
  }
  if (c->want_out) {
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = index };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = 0;
  }
}

static void on_answer (struct conn *c, double t) {
  double due = c->due[c->head];
  c->head = (c->head + 1) % MAX_IN_FLIGHT;
  c->count--;
  int ok = c->prefix_len == OK_LEN && memcmp(c->prefix, OK_PREFIX, OK_LEN) == 0;
  c->prefix_len = 0;
  if (due < measure_from) { if (ok) warm_answers++; else warm_wrong++; return; }
  if (ok) lat[nlat++] = t - due;
  else wrong++;
}

int main (int argc, char **argv) {
  if (argc != 8 && argc != 9) { fprintf(stderr, "usage: gateway-open-load HOST PORT CLIENTS RATE SECONDS WARMUP_SECONDS 'REQUEST' [TICK_US]\n"); return 2; }
  double tick = (argc == 9 ? atof(argv[8]) : DEFAULT_TICK_US) / 1e6;
  const char *host = argv[1];
  int port = atoi(argv[2]), clients = atoi(argv[3]);
  double rate = atof(argv[4]), seconds = atof(argv[5]), warmup = atof(argv[6]);
  size_t req_len = strlen(argv[7]) + 1;
  if (port <= 0 || clients <= 0 || rate <= 0 || seconds <= 0 || warmup < 0 || req_len > 4096 || strchr(argv[7], '\n') != NULL) {
    fprintf(stderr, "gateway-open-load: bad arguments\n");
    return 2;
  }
  char request[4097];
  memcpy(request, argv[7], req_len - 1);
  request[req_len - 1] = '\n';
  long total = (long)(rate * (warmup + seconds));
  lat = malloc(sizeof(double) * (size_t)(total + 1));
  late = malloc(sizeof(double) * (size_t)(total + 1));
  struct conn *cs = calloc(clients, sizeof *cs);
  if (lat == NULL || late == NULL || cs == NULL) { fprintf(stderr, "gateway-open-load: out of memory\n"); return 1; }
  int ep = epoll_create1(0);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "gateway-open-load: HOST must be an IPv4 address\n"); return 2; }
  for (int i = 0; i < clients; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { fprintf(stderr, "gateway-open-load: connect: %s\n", strerror(errno)); return 1; }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    cs[i].fd = fd;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event tev = { .events = EPOLLIN, .data.u32 = TIMER_TAG };
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  double start = now_s();
  measure_from = start + warmup;
  end_at = measure_from + seconds;
  long next = 0;     /* the next request of the schedule */
  long in_flight = 0;
  char buf[1 << 16];
  struct epoll_event evs[256];
  for (;;) {
    double t = now_s();
    /* Every request due by now, each written on its own. */
    while (next < total) {
      double due = start + next / rate;
      if (due > t || due >= end_at) break;
      struct conn *c = &cs[next % clients];
      next++;
      if (c->dead) { reset++; continue; }
      if (c->count == MAX_IN_FLIGHT || c->out_len + (int)req_len > OUT_BYTES) { overflow++; continue; }
      c->due[(c->head + c->count) % MAX_IN_FLIGHT] = due;
      c->count++;
      if (due >= measure_from) { sent++; late[nlate++] = t - due; }
      memcpy(c->out + c->out_len, request, req_len);
      c->out_len += (int)req_len;
      flush_out(c, ep, (uint32_t)(c - cs));
    }
    in_flight = 0;
    for (int i = 0; i < clients; i++) in_flight += cs[i].count;
    int scheduled = next < total && start + next / rate < end_at;
    if (!scheduled && (in_flight == 0 || t > end_at + DRAIN_S)) break;
    /* Sleep until the next due time (timerfd: nanoseconds, not epoll's milliseconds), or
     * TICK after this wake-up if that is later: a wake-up per request costs more CPU than
     * the request (a context switch each way), and the lateness it adds is charged. */
    if (scheduled) {
      double due = start + next / rate;
      if (due < t + tick) due = t + tick;
      struct itimerspec its = { .it_value = { .tv_sec = (time_t)due, .tv_nsec = (long)((due - (time_t)due) * 1e9) } };
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    int n = epoll_wait(ep, evs, 256, scheduled ? -1 : 100);
    if (n < 0 && errno != EINTR) break;
    for (int k = 0; k < n; k++) {
      if (evs[k].data.u32 == TIMER_TAG) { uint64_t x; ssize_t r = read(tfd, &x, sizeof x); (void)r; continue; }
      struct conn *c = &cs[evs[k].data.u32];
      if (c->dead) continue;
      if (evs[k].events & EPOLLOUT) flush_out(c, ep, evs[k].data.u32);
      if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) { kill_conn(c, ep); continue; }
      double got = now_s();
      for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n') {
          if (c->count == 0) { wrong++; continue; }  /* an answer nobody asked for */
          on_answer(c, got);
        } else if (c->prefix_len < OK_LEN) {
          c->prefix[c->prefix_len++] = buf[i];
        }
      }
    }
  }
  struct rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  double wall = now_s() - start;
  qsort(lat, nlat, sizeof(double), cmp_double);
  qsort(late, nlate, sizeof(double), cmp_double);
  printf("{\"clients\":%d,\"rate\":%.0f,\"seconds\":%.3f,\"sent\":%ld,\"messages\":%ld,\"rps\":%ld,"
         "\"errors\":{\"wrong_reply\":%ld,\"reset\":%ld,\"overflow\":%ld,\"unanswered\":%ld},"
         "\"latencyUs\":{\"p50\":%ld,\"p90\":%ld,\"p99\":%ld,\"p999\":%ld,\"max\":%ld},"
         "\"sendLateUs\":{\"p50\":%ld,\"p99\":%ld,\"max\":%ld},"
         "\"warmup\":{\"seconds\":%.3f,\"messages\":%ld,\"errors\":%ld},\"cpuPercent\":%.1f}\n",
         clients, rate, seconds, sent, nlat, (long)(nlat / seconds),
         wrong, reset, overflow, in_flight,
         at(lat, nlat, 0.5), at(lat, nlat, 0.9), at(lat, nlat, 0.99), at(lat, nlat, 0.999), nlat ? (long)(lat[nlat - 1] * 1e6) : 0,
         at(late, nlate, 0.5), at(late, nlate, 0.99), nlate ? (long)(late[nlate - 1] * 1e6) : 0,
         warmup, warm_answers, warm_wrong, cpu / wall * 100);
  return 0;
}
