/* localdb_server: the mariadbd process of local mode (see localdb.h and the
 * protocol at the top of localdb.c): whether a pid is our server, creating
 * its data directory with mariadb-install-db, its command line (kept in
 * mariadbd.cmd too), starting it and waiting until it answers, and stopping
 * it. The pid checks use no stdio and no locks, so that the signal handler
 * of localdb.c may call them. */
#include "localdb.h"
#include "localdb_private.h"
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "err.h"

extern char **environ;

#define LOCALDB_LOG_MAX           (10 * 1024 * 1024)   /* mariadbd.log moves to .1 past this */

volatile sig_atomic_t localdb_started_pid;

/* --- process checks, without stdio or locks: the signal handler uses them too --- */

/* Read a small file whole into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return n;
}

pid_t localdb_read_pid_file(const char *path)
{
    char buf[32];
    if (read_small(path, buf, sizeof buf) <= 0) return -1;
    long v = 0;
    const char *p = buf;
    for (; *p >= '0' && *p <= '9' && v <= INT32_MAX; p++) v = v * 10 + (*p - '0');
    return p > buf && v > 0 && v <= INT32_MAX ? (pid_t)v : -1;
}

/* "/proc/<pid>/<name>" */
static void proc_path(char *out, size_t cap, pid_t pid, const char *name)
{
    char digits[16];
    int nd = 0;
    unsigned long v = (unsigned long)pid;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && nd < (int)sizeof digits);
    size_t o = 0;
    for (const char *pre = "/proc/"; *pre && o + 1 < cap; pre++) out[o++] = *pre;
    while (nd && o + 1 < cap) out[o++] = digits[--nd];
    if (o + 1 < cap) out[o++] = '/';
    for (; *name && o + 1 < cap; name++) out[o++] = *name;
    out[o] = '\0';
}

/* Whether pid is a live (not zombie) process. Reaps it when it is our child. */
bool localdb_pid_alive(pid_t pid)
{
    if (pid <= 0) return false;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    if (kill(pid, 0) != 0 && errno == ESRCH) return false;
    char path[64], buf[512];
    proc_path(path, sizeof path, pid, "stat");
    if (read_small(path, buf, sizeof buf) <= 0) return kill(pid, 0) == 0 || errno == EPERM;
    const char *close_paren = strrchr(buf, ')');
    return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}

/* Whether pid is a live process with datadir_arg ("--datadir=...") among its
 * arguments: our server, not a recycled pid. */
bool localdb_pid_runs_server(pid_t pid, const char *datadir_arg)
{
    if (!localdb_pid_alive(pid)) return false;
    char path[64], cmdline[8192];
    proc_path(path, sizeof path, pid, "cmdline");
    ssize_t n = read_small(path, cmdline, sizeof cmdline);
    if (n < 0) return access("/proc/self", F_OK) != 0;   /* no /proc at all: trust the pid file */
    size_t want = strlen(datadir_arg);
    for (ssize_t i = 0; i < n;) {             /* NUL-separated arguments */
        const char *arg = cmdline + i;
        size_t len = strnlen(arg, (size_t)(n - i));
        if (len == want && memcmp(arg, datadir_arg, len) == 0) return true;
        i += (ssize_t)len + 1;
    }
    return false;
}

/* --- the server's files --- */

/* The part of the log written since offset from, at most ~1500 bytes from its end. */
static void log_tail(const localdb *l, off_t from, char *out, size_t cap)
{
    out[0] = '\0';
    int fd = open(l->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        size_t want = cap > 1 ? cap - 1 : 0;
        if (want > 1500) want = 1500;
        off_t start = st.st_size - (off_t)want;
        if (start < from) start = from;
        if (start < 0) start = 0;
        ssize_t n = pread(fd, out, cap - 1, start);
        if (n > 0) {
            out[n] = '\0';
            char *nl = start > from ? strchr(out, '\n') : NULL;   /* begin at a whole line */
            if (nl) memmove(out, nl + 1, strlen(nl + 1) + 1);
        } else {
            out[0] = '\0';
        }
    }
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --- the server process --- */

static int find_program(const char *env, const char *name, char *out, size_t cap)
{
    const char *given = config_env(env);
    if (given) {
        if (access(given, X_OK) == 0 && snprintf(out, cap, "%s", given) < (int)cap) return 0;
        return -1;
    }
    static const char *const fixed[] = { "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin" };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (snprintf(out, cap, "%s/%s", fixed[i], name) < (int)cap && access(out, X_OK) == 0) return 0;
    const char *path = config_env("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n && snprintf(out, cap, "%.*s/%s", (int)n, path, name) < (int)cap && access(out, X_OK) == 0) return 0;
        path += n + (path[n] == ':');
    }
    return -1;
}

bool localdb_pid_is_ours(const localdb *l, pid_t pid)
{
    return localdb_pid_runs_server(pid, l->datadir_arg);
}

bool localdb_server_answers(const localdb *l)
{
    db_url u;
    memset(&u, 0, sizeof u);
    snprintf(u.user, sizeof u.user, "root");
    snprintf(u.host, sizeof u.host, "localhost");
    snprintf(u.socket, sizeof u.socket, "%s", l->socket);
    char err[256];
    db_conn *c = db_connect(&u, err, sizeof err);
    if (!c) return false;
    db_close(c);
    return true;
}

/* Wait until pid is gone, up to seconds. */
bool localdb_wait_gone(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (!localdb_pid_alive(pid)) return true;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !localdb_pid_alive(pid);
}

/* Run argv as a child: stdin /dev/null, stdout and stderr appended to the
 * log, its own process group, default signal dispositions and mask. */
static int spawn_logged(const localdb *l, char *const argv[], pid_t *pid, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa)) {
        set_err(err, errlen, "cannot start %s: out of memory", argv[0]);
        return -1;
    }
    if (posix_spawnattr_init(&attr)) {
        posix_spawn_file_actions_destroy(&fa);
        set_err(err, errlen, "cannot start %s: out of memory", argv[0]);
        return -1;
    }
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&defaults, sigs[i]);
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
          || posix_spawn_file_actions_addopen(&fa, 1, l->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)
          || posix_spawn_file_actions_adddup2(&fa, 1, 2)
          || posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
          || posix_spawnattr_setpgroup(&attr, 0)
          || posix_spawnattr_setsigmask(&attr, &none)
          || posix_spawnattr_setsigdefault(&attr, &defaults);
    if (!rc) rc = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc) {
        set_err(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
        return -1;
    }
    return 0;
}

void localdb_free_argv(char **argv)
{
    for (int i = 0; i < LOCALDB_MAX_ARGS && argv[i]; i++) {
        free(argv[i]);
        argv[i] = NULL;
    }
}

static int add_arg(char **argv, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_arg(char **argv, int *n, const char *fmt, ...)
{
    if (*n >= LOCALDB_MAX_ARGS - 1) return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&argv[*n], fmt, ap);
    va_end(ap);
    if (rc < 0) {
        argv[*n] = NULL;
        return -1;
    }
    (*n)++;
    argv[*n] = NULL;
    return 0;
}

/* Create the server's data directory the first time. */
int localdb_server_install(localdb *l, char *err, size_t errlen)
{
    char marker[PATH_MAX];
    if (localdb_path_join(marker, sizeof marker, l->server_dir, "mysql") == 0 && is_dir(marker)) return 0;
    char staging_dir[PATH_MAX], program[PATH_MAX];
    if (snprintf(staging_dir, sizeof staging_dir, "%s.tmp", l->server_dir) >= (int)sizeof staging_dir) {
        set_err(err, errlen, "data dir path too long: %s", l->data_dir);
        return -1;
    }
    if (find_program("FOURSCORE_MARIADB_INSTALL_DB", "mariadb-install-db", program, sizeof program)) {
        set_err(err, errlen, "mariadb-install-db not found (install the Debian package mariadb-server, "
                "or set FOURSCORE_MARIADB_INSTALL_DB)");
        return -1;
    }
    if (localdb_remove_tree(staging_dir)) {           /* left by an interrupted first run */
        set_err(err, errlen, "cannot remove %s: %s", staging_dir, strerror(errno));
        return -1;
    }
    if (is_dir(l->server_dir) && localdb_remove_tree(l->server_dir)) {  /* has no system tables: unusable */
        set_err(err, errlen, "cannot remove the incomplete %s: %s", l->server_dir, strerror(errno));
        return -1;
    }
    fprintf(stderr, "fourscore: creating the local database in %s ...\n", l->data_dir);
    char *argv[LOCALDB_MAX_ARGS] = { 0 };
    int n = 0;
    int bad = add_arg(argv, &n, "%s", program) || add_arg(argv, &n, "--no-defaults")
           || (geteuid() == 0 && add_arg(argv, &n, "--user=root"))
           || add_arg(argv, &n, "--datadir=%s", staging_dir)
           || add_arg(argv, &n, "--tmpdir=%s", l->tmp_dir)
           || add_arg(argv, &n, "--auth-root-authentication-method=normal")
           || add_arg(argv, &n, "--skip-test-db")
           || add_arg(argv, &n, "--innodb-log-file-size=256M");
    if (bad) {
        localdb_free_argv(argv);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    off_t log_from = file_size(l->log_path);
    pid_t pid;
    if (spawn_logged(l, argv, &pid, err, errlen)) {
        localdb_free_argv(argv);
        return -1;
    }
    localdb_free_argv(argv);
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    char why[96] = "";
    if (w == pid && WIFSIGNALED(status))
        snprintf(why, sizeof why, "mariadb-install-db was killed by signal %d", WTERMSIG(status));
    else if (w == pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        snprintf(why, sizeof why, "mariadb-install-db exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (w != pid && errno != ECHILD)      /* ECHILD: SIGCHLD ignored, judge by the result */
        snprintf(why, sizeof why, "waiting for mariadb-install-db failed: %s", strerror(errno));
    char made[PATH_MAX];
    if (!why[0] && (localdb_path_join(made, sizeof made, staging_dir, "mysql") || !is_dir(made)))
        snprintf(why, sizeof why, "mariadb-install-db did not create the system tables");
    if (why[0]) {
        char tail[1600];
        log_tail(l, log_from, tail, sizeof tail);
        set_err(err, errlen, "creating the local database in %s failed (%s); the end of %s:\n%s",
                l->server_dir, why, l->log_path, tail);
        return -1;
    }
    if (rename(staging_dir, l->server_dir)) {
        set_err(err, errlen, "cannot rename %s to %s: %s", staging_dir, l->server_dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Append s to f quoted for sh. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* The InnoDB buffer pool when FOURSCORE_LOCALDB_BUFFER_POOL does not say:
 * an eighth of the machine's memory, from 256 MB to 2 GB (the default demo
 * group's tables and keys take about 1 GB; loading it with a pool that holds
 * them is a fifth faster). Only what is used is ever resident. */
static long default_buffer_pool_mb(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    long mb = pages > 0 && page > 0 ? (long)((double)pages * (double)page / 8.0 / 1048576.0) : 256;
    return mb < 256 ? 256 : mb > 2048 ? 2048 : mb;
}

/* The server's command line, kept in l->argv and written to mariadbd.cmd. */
int localdb_server_command(localdb *l, char *err, size_t errlen)
{
    char program[PATH_MAX];
    if (find_program("FOURSCORE_MARIADBD", "mariadbd", program, sizeof program)) {
        set_err(err, errlen, "mariadbd not found (install the Debian package mariadb-server, or set FOURSCORE_MARIADBD)");
        return -1;
    }
    const char *pool = config_env("FOURSCORE_LOCALDB_BUFFER_POOL");
    char sized[32];
    if (!pool || !*pool || strspn(pool, "0123456789KMGkmg") != strlen(pool)) {
        snprintf(sized, sizeof sized, "%ldM", default_buffer_pool_mb());
        pool = sized;
    }
    int flush = config_localdb_flush(err, errlen);    /* FOURSCORE_LOCALDB_FLUSH, docs/operations.md */
    if (flush < 0) return -1;
    localdb_free_argv(l->argv);
    int n = 0;
    char **a = l->argv;
    int bad = add_arg(a, &n, "%s", program) || add_arg(a, &n, "--no-defaults")
           || add_arg(a, &n, "--datadir=%s", l->server_dir)
           || add_arg(a, &n, "--socket=%s", l->socket)
           || add_arg(a, &n, "--tmpdir=%s", l->tmp_dir)
           || add_arg(a, &n, "--pid-file=%s", l->pid_path)
           || add_arg(a, &n, "--skip-networking")
           || add_arg(a, &n, "--skip-log-bin")
           || add_arg(a, &n, "--skip-name-resolve")
           || (geteuid() == 0 && add_arg(a, &n, "--user=root"))
           || add_arg(a, &n, "--character-set-server=utf8mb4")
           || add_arg(a, &n, "--collation-server=utf8mb4_unicode_ci")
           /* a redo log large enough that a bulk load is not held up by
            * checkpoints (the same size as at creation, so no resize) */
           || add_arg(a, &n, "--innodb-log-file-size=256M")
           || add_arg(a, &n, "--innodb-buffer-pool-size=%s", pool)
           /* 1: an acknowledged commit is on disk; 2: on disk within a second */
           || add_arg(a, &n, "--innodb-flush-log-at-trx-commit=%d", flush)
           || add_arg(a, &n, "--max-allowed-packet=64M")
           || add_arg(a, &n, "--max-connections=500");
    if (bad) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    /* mariadbd.cmd: the same command as a script, for running it by hand. */
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", l->cmd_path);
    FILE *f = fopen(tmp, "we");
    if (!f) {
        set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fputs("#!/bin/sh\n# The local MariaDB server of this Fourscore data dir, as Fourscore runs it.\nexec", f);
    for (int i = 0; a[i]; i++) {
        fputc(' ', f);
        sh_quote(f, a[i]);
    }
    fputs(" </dev/null >>", f);
    sh_quote(f, l->log_path);
    fputs(" 2>&1\n", f);
    if (fclose(f) || chmod(tmp, 0700) || rename(tmp, l->cmd_path)) {
        set_err(err, errlen, "cannot write %s: %s", l->cmd_path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Remove what a killed server left: its pid file and socket. */
static void remove_stale_files(const localdb *l)
{
    unlink(l->pid_path);
    unlink(l->socket);
}

/* Run the server and wait until it answers. Called with localdb.lock held. */
int localdb_server_start(localdb *l, char *err, size_t errlen)
{
    remove_stale_files(l);
    if (localdb_server_command(l, err, errlen)) return -1;
    if (file_size(l->log_path) > LOCALDB_LOG_MAX) {    /* keep one old log */
        char old[PATH_MAX + 8];
        snprintf(old, sizeof old, "%s.1", l->log_path);
        if (rename(l->log_path, old))
            fprintf(stderr, "fourscore: cannot rotate %s: %s\n", l->log_path, strerror(errno));
    }
    off_t log_from = file_size(l->log_path);
    fprintf(stderr, "fourscore: starting the local MariaDB server (%s) ...\n", l->server_dir);
    pid_t pid;
    if (spawn_logged(l, l->argv, &pid, err, errlen)) return -1;
    l->child = pid;
    l->started = true;
    localdb_started_pid = (sig_atomic_t)pid;
    time_t deadline = time(NULL) + LOCALDB_START_TIMEOUT_S;
    for (;;) {
        if (localdb_server_answers(l)) return 0;
        bool exited = !localdb_pid_alive(pid);
        if (exited || time(NULL) > deadline) {
            if (!exited) {
                kill(pid, SIGKILL);
                localdb_wait_gone(pid, 10);
            }
            l->started = false;
            l->child = 0;
            localdb_started_pid = 0;
            char tail[1600];
            log_tail(l, log_from, tail, sizeof tail);
            set_err(err, errlen, "the local MariaDB server %s; the end of %s:\n%s",
                    exited ? "stopped while starting" : "did not answer in time", l->log_path, tail);
            return -1;
        }
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* SIGTERM the server and wait for it (SIGKILL after the bound). */
void localdb_server_stop(localdb *l)
{
    pid_t pid = localdb_read_pid_file(l->pid_path);
    if (pid <= 0 || !localdb_pid_is_ours(l, pid)) pid = l->started ? l->child : -1;
    if (pid > 0 && localdb_pid_is_ours(l, pid)) {
        kill(pid, SIGTERM);
        if (!localdb_wait_gone(pid, LOCALDB_STOP_TIMEOUT_S)) {
            fprintf(stderr, "fourscore: the local MariaDB server (pid %d) did not stop in %d s; killing it\n",
                    (int)pid, LOCALDB_STOP_TIMEOUT_S);
            kill(pid, SIGKILL);
            localdb_wait_gone(pid, 10);
        }
    }
    if (l->started && l->child > 0) localdb_pid_alive(l->child);   /* reap */
    if (localdb_started_pid == (sig_atomic_t)l->child) localdb_started_pid = 0;
    l->started = false;
    l->child = 0;
    l->supervising = false;
    remove_stale_files(l);
}
