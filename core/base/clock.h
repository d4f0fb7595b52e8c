/* clock: the one monotonic clock of the core, in milliseconds: deadlines,
 * timeouts, caches' ages and durations for logs and progress all read it
 * (never the wall clock, which can jump). */
#ifndef FS_CLOCK_H
#define FS_CLOCK_H
#include <time.h>

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC), with fractions. */
static inline double clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The same in whole milliseconds. */
static inline long long clock_ms_whole(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A clock_ms_whole() reading as a struct timespec: the deadline of a
 * pthread_cond_timedwait on a condition variable set to CLOCK_MONOTONIC
 * (pthread_condattr_setclock). */
static inline struct timespec clock_timespec_at(long long ms)
{
    struct timespec t = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    return t;
}

/* Such a deadline ms milliseconds from now. */
static inline struct timespec clock_timespec_after(long long ms)
{
    return clock_timespec_at(clock_ms_whole() + ms);
}

/* Seconds since start_ms (a clock_ms() reading), for progress lines. */
static inline double clock_seconds_since(double start_ms)
{
    return (clock_ms() - start_ms) / 1000.0;
}
#endif
