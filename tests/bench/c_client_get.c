/* Cross-check for corral-bench: the Apache ZooKeeper C client (libzookeeper_mt) doing
 * synchronous zoo_get() (or zoo_set()) in a loop on one session, 1 request in flight.
 * Compiled at run time by compare.py:  cc -O2 -o c_client_get c_client_get.c -lzookeeper_mt
 *
 * usage: c_client_get HOST:PORT PATH WARMUP_S DURATION_S [get|set]
 * Prints one JSON line: ops, ops_per_s, latency percentiles in microseconds.
 * The node PATH must exist (corral-bench's setup creates /corral-bench/k0 ...). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define THREADED 1
#include <zookeeper/zookeeper.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static void watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh; (void)type; (void)state; (void)path; (void)ctx;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s HOST:PORT PATH WARMUP_S DURATION_S [get|set]\n", argv[0]);
    return 64;
  }
  const char* hosts = argv[1];
  const char* path = argv[2];
  double warmup = atof(argv[3]), duration = atof(argv[4]);
  int do_set = argc > 5 && strcmp(argv[5], "set") == 0;
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t* zh = zookeeper_init(hosts, watcher, 30000, 0, 0, 0);
  if (!zh) { perror("zookeeper_init"); return 1; }
  uint64_t deadline = now_ns() + 10000000000ull;
  while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
    if (now_ns() > deadline) { fprintf(stderr, "not connected\n"); return 1; }
    usleep(1000);
  }
  size_t cap = 1 << 20, n = 0;
  uint64_t* lat = malloc(cap * sizeof *lat);
  char buf[2048];
  char value[100];
  memset(value, 'v', sizeof value);
  long errors = 0;
  uint64_t start = now_ns();
  uint64_t w0 = start + (uint64_t)(warmup * 1e9), w1 = w0 + (uint64_t)(duration * 1e9);
  uint64_t t = start;
  /* bounded: stops at w1, and at most 50M requests */
  for (long i = 0; i < 50000000 && t < w1; ++i) {
    int len = sizeof buf;
    uint64_t t0 = now_ns();
    int rc = do_set ? zoo_set(zh, path, value, sizeof value, -1)
                    : zoo_get(zh, path, 0, buf, &len, NULL);
    t = now_ns();
    if (t0 >= w0 && t <= w1) {
      if (rc != ZOK) ++errors;
      if (n == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
      lat[n++] = t - t0;
    }
  }
  zookeeper_close(zh);
  qsort(lat, n, sizeof *lat, cmp_u64);
#define PCT(p) (n ? lat[(size_t)((p) / 100.0 * (n - 1) + 0.5)] / 1e3 : 0.0)
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += lat[i];
  printf("{\"client\":\"libzookeeper_mt\",\"op\":\"%s\",\"ops\":%zu,\"duration_s\":%.3f,"
         "\"ops_per_s\":%.1f,\"errors\":%ld,\"latency_us\":{\"mean\":%.1f,\"p50\":%.1f,"
         "\"p90\":%.1f,\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.1f}}\n",
         do_set ? "set" : "get", n, duration, n / duration, errors, n ? sum / n / 1e3 : 0.0,
         PCT(50), PCT(90), PCT(99), PCT(99.9), n ? lat[n - 1] / 1e3 : 0.0);
  return 0;
}
