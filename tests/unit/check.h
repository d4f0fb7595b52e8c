/* check: the few macros every unit test uses. Each check prints one line
 * ("ok - ..." or "not ok - ... at file:line"); check_done() prints the
 * closing count and returns the exit code (non-zero when any check failed). */
#ifndef FS_CHECK_H
#define FS_CHECK_H
#include <stdio.h>
#include <string.h>
#include <math.h>

static int check_passed, check_failed;

#define CHECK(cond, ...) do { \
    if (cond) { check_passed++; printf("ok - "); printf(__VA_ARGS__); printf("\n"); } \
    else { check_failed++; printf("not ok - "); printf(__VA_ARGS__); printf("  (%s:%d: %s)\n", __FILE__, __LINE__, #cond); } \
    fflush(stdout); } while (0)

#define CHECK_STR(got, want, ...) do { const char *g_ = (got), *w_ = (want); \
    CHECK(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__); \
    if (!(g_ && w_ && strcmp(g_, w_) == 0)) printf("    got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)

#define CHECK_INT(got, want, ...) do { long long g_ = (long long)(got), w_ = (long long)(want); \
    CHECK(g_ == w_, __VA_ARGS__); if (g_ != w_) printf("    got %lld, want %lld\n", g_, w_); } while (0)

/* Relative tolerance 1e-9 (absolute 1e-9 near zero). */
#define CHECK_NUM(got, want, ...) do { double g_ = (got), w_ = (want); \
    int ok_ = fabs(g_ - w_) <= 1e-9 * fmax(1.0, fmax(fabs(g_), fabs(w_))); \
    CHECK(ok_, __VA_ARGS__); if (!ok_) printf("    got %.12g, want %.12g\n", g_, w_); } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif
