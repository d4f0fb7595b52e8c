/* test_config: settings precedence (flags over environment over defaults),
 * the option parser's answers to --help and to bad flags and values; the
 * system variables read through config.c (TMPDIR) and the clock's
 * deadlines (core/base/clock.h). */
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include "check.h"
#include "clock.h"
#include "config.h"

/* TMPDIR through config_tmp_dir; the monotonic deadlines of clock.h, worked
 * out by hand: 1234567 ms is 1234 s and 567 000 000 ns. */
static void test_tmp_and_clock(void)
{
    setenv("TMPDIR", "/var/tmp/x", 1);
    CHECK_STR(config_tmp_dir(), "/var/tmp/x", "TMPDIR is where temporary files go");
    setenv("TMPDIR", "", 1);
    CHECK_STR(config_tmp_dir(), "/tmp", "an empty TMPDIR: /tmp");
    unsetenv("TMPDIR");
    CHECK_STR(config_tmp_dir(), "/tmp", "no TMPDIR: /tmp");
    struct timespec t = clock_timespec_at(1234567);
    CHECK(t.tv_sec == 1234 && t.tv_nsec == 567000000L, "1234567 ms: 1234 s 567000000 ns (%lld %ld)", (long long)t.tv_sec, t.tv_nsec);
    long long now = clock_ms_whole();
    t = clock_timespec_after(250);
    long long at = (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
    CHECK(at >= now + 250 && at < now + 350, "250 ms from now: %lld ms after the reading before", at - now);
}

/* Run config_parse with stdout/stderr sent to /dev/null; returns its code. */
static int parse_quiet(config *c, int argc, char **argv, opt *opts, int nopts,
                       const char **pos, int maxpos, int *npos)
{
    fflush(stdout); fflush(stderr);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1); dup2(null, 2);
    int rc = config_parse(c, argc, argv, opts, nopts, "fourscore test", "a test", pos, maxpos, npos);
    fflush(stdout); fflush(stderr);
    dup2(out, 1); dup2(err, 2);
    close(out); close(err); close(null);
    return rc;
}

int main(void)
{
    char err[512];
    config c;
    const char *pos[4];
    int npos;

    test_tmp_and_clock();

    /* --- defaults --- */
    unsetenv("FOURSCORE_LISTEN");
    unsetenv("FOURSCORE_DB_URL");
    unsetenv("FOURSCORE_DB_READ_URLS");
    CHECK(config_load_env(&c, err, sizeof err) == 0, "defaults load");
    CHECK_STR(c.listen, "127.0.0.1:8080", "default listen address");
    CHECK_STR(c.db_url, "", "no database URL by default: local mode");
    CHECK_STR(c.data_dir, "./var", "default data dir");
    CHECK_INT(c.body_max, 1 << 20, "default body limit 1 MiB");
    CHECK_INT(c.import_max, 2ULL << 30, "default import limit 2 GiB");

    /* --- environment over defaults, flags over environment --- */
    setenv("FOURSCORE_LISTEN", "0.0.0.0:9000", 1);
    setenv("FOURSCORE_DB_READ_URLS", "mariadb://r@h1/db,mariadb://r@h2/db", 1);
    setenv("FOURSCORE_THREADS", "4", 1);
    CHECK(config_load_env(&c, err, sizeof err) == 0, "environment loads");
    CHECK_STR(c.listen, "0.0.0.0:9000", "FOURSCORE_LISTEN is used");
    CHECK_INT(c.n_db_read, 2, "two replicas from FOURSCORE_DB_READ_URLS");
    CHECK_STR(c.db_read[1], "mariadb://r@h2/db", "second replica URL");
    CHECK_INT(c.threads, 4, "FOURSCORE_THREADS is used");

    opt opts[] = {
        { "--from", OPT_STR, "YYYY-MM-DD", "start", 0, 0, {0}, 0 },
        { "--region", OPT_MULTI, "CODE", "region", 0, 0, {0}, 0 },
        { "--all", OPT_FLAG, NULL, "all", 0, 0, {0}, 0 },
    };
    char *argv1[] = { "x", "--listen", "127.0.0.1:0", "--from=2025-01-01", "--region", "S", "--region=E",
                      "--all", "--db-read", "mariadb://r@h3/db", "pos1", NULL };
    CHECK_INT(parse_quiet(&c, 11, argv1, opts, 3, pos, 4, &npos), 0, "a good command line parses");
    CHECK_STR(c.listen, "127.0.0.1:0", "--listen overrides the environment");
    CHECK_STR(opts[0].value, "2025-01-01", "--from=VALUE form");
    CHECK_INT(opts[1].nvalues, 2, "a repeatable option collects every value");
    CHECK_STR(opts[1].values[1], "E", "second --region");
    CHECK(opts[2].set, "a flag is set");
    CHECK_INT(c.n_db_read, 1, "--db-read replaces the environment's replicas");
    CHECK_INT(npos, 1, "one positional argument");
    CHECK_STR(pos[0], "pos1", "the positional argument");

    /* --- errors: exit code 2 --- */
    char *bad1[] = { "x", "--nope", NULL };
    CHECK_INT(parse_quiet(&c, 2, bad1, opts, 3, pos, 4, &npos), 2, "unknown option is exit code 2");
    char *bad2[] = { "x", "--from", NULL };
    CHECK_INT(parse_quiet(&c, 2, bad2, opts, 3, pos, 4, &npos), 2, "missing value is exit code 2");
    char *bad3[] = { "x", "--all=1", NULL };
    CHECK_INT(parse_quiet(&c, 2, bad3, opts, 3, pos, 4, &npos), 2, "a flag given a value is exit code 2");
    char *bad4[] = { "x", "a", "b", NULL };
    CHECK_INT(parse_quiet(&c, 3, bad4, opts, 3, pos, 1, &npos), 2, "too many positional arguments is exit code 2");
    char *help[] = { "x", "--help", NULL };
    CHECK_INT(parse_quiet(&c, 2, help, opts, 3, pos, 4, &npos), 1, "--help answers 1 (usage printed)");

    setenv("FOURSCORE_THREADS", "lots", 1);
    CHECK(config_load_env(&c, err, sizeof err) != 0, "a bad number in the environment is refused");
    CHECK(strstr(err, "FOURSCORE_THREADS") != NULL, "the message names the variable: %s", err);
    unsetenv("FOURSCORE_THREADS");
    setenv("FOURSCORE_PWHASH_MEMLIMIT", "1024", 1);
    CHECK(config_load_env(&c, err, sizeof err) != 0, "a password hash memory below the floor is refused");
    unsetenv("FOURSCORE_PWHASH_MEMLIMIT");

    /* --- listen address --- */
    char host[64];
    unsigned port;
    CHECK(config_listen_split("127.0.0.1:8080", host, sizeof host, &port) == 0 && port == 8080, "host:port splits");
    CHECK_STR(host, "127.0.0.1", "host part");
    CHECK(config_listen_split("[::1]:0", host, sizeof host, &port) == 0 && port == 0, "[v6]:port splits");
    CHECK_STR(host, "::1", "v6 host without brackets");
    CHECK(config_listen_split("nohost", host, sizeof host, &port) != 0, "no port is refused");
    CHECK(config_listen_split("h:70000", host, sizeof host, &port) != 0, "port out of range is refused");
    return check_done();
}
