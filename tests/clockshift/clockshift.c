/* libcorral_clockshift.so: LD_PRELOAD it to step a process's wall clock (CLOCK_REALTIME,
 * gettimeofday, time) by the number of seconds in the file $CORRAL_CLOCKSHIFT_FILE, re-read at
 * most every 100 ms. The monotonic clocks are left alone, as an NTP step or `date -s` leaves
 * them. Used by tests/integration/test_clock_jump.py (README.md here says why not libfaketime).
 *
 * Only system calls below (no malloc, no dlsym): the shim must work from the first
 * clock_gettime a process makes, jemalloc's initialisation included. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int64_t shift_seconds;
static _Atomic int64_t next_read_ns = 0;

static int real_clock_gettime(clockid_t clock, struct timespec* ts) {
  return (int)syscall(SYS_clock_gettime, clock, ts);
}

static int64_t parse_seconds(const char* text, ssize_t length) {
  int64_t value = 0;
  int negative = 0;
  ssize_t i = 0;
  while (i < length && (text[i] == ' ' || text[i] == '+')) ++i;
  if (i < length && text[i] == '-') {
    negative = 1;
    ++i;
  }
  for (; i < length && text[i] >= '0' && text[i] <= '9'; ++i) value = value * 10 + (text[i] - '0');
  return negative ? -value : value;
}

static int64_t current_shift(void) {
  struct timespec now;
  real_clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  int64_t due = atomic_load_explicit(&next_read_ns, memory_order_relaxed);
  if (now_ns >= due &&
      atomic_compare_exchange_strong(&next_read_ns, &due, now_ns + 100 * 1000000)) {
    const char* path = getenv("CORRAL_CLOCKSHIFT_FILE");
    if (path != NULL) {
      const int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        char text[32];
        const ssize_t n = (ssize_t)syscall(SYS_read, fd, text, sizeof text);
        syscall(SYS_close, fd);
        if (n > 0) atomic_store(&shift_seconds, parse_seconds(text, n));
      }
    }
  }
  return atomic_load_explicit(&shift_seconds, memory_order_relaxed);
}

static int is_wall_clock(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI;
}

int clock_gettime(clockid_t clock, struct timespec* ts) {
  const int rc = real_clock_gettime(clock, ts);
  if (rc == 0 && is_wall_clock(clock)) ts->tv_sec += current_shift();
  return rc;
}

int __clock_gettime(clockid_t clock, struct timespec* ts) { return clock_gettime(clock, ts); }

int gettimeofday(struct timeval* tv, void* tz) {
  (void)tz;
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  struct timeval* volatile out = tv; /* glibc declares it nonnull; callers pass NULL anyway */
  if (out != NULL) {
    out->tv_sec = ts.tv_sec;
    out->tv_usec = ts.tv_nsec / 1000;
  }
  return 0;
}

time_t time(time_t* out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != NULL) *out = ts.tv_sec;
  return ts.tv_sec;
}
