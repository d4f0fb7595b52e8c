/* localdb: the private MariaDB server of local mode (see localdb.h).
 *
 * Files in the data dir D:
 *   D/mariadb/          the server's data directory (mariadb-install-db
 *                       writes D/mariadb.tmp, renamed when complete, so a
 *                       half-created directory is never mistaken for a good one)
 *   D/mariadb-tmp/      the server's tmpdir. Never the shared /tmp: a starting
 *                       mariadbd deletes every #sql* file in its tmpdir,
 *                       including those of other servers still using them.
 *   D/mysqld.sock       the unix socket (no TCP). When the path would not fit
 *                       a socket address (108 bytes), the socket lives at
 *                       /tmp/fourscore-<hash of D>.sock instead.
 *   D/mariadbd.pid      the server's pid file
 *   D/mariadbd.log      the server's output (its tail is shown when it fails;
 *                       past 10 MB it moves to mariadbd.log.1 at the next start)
 *   D/mariadbd.cmd      a shell script with the exact command line, so a test
 *                       (or a person) can run the server again by hand
 *   D/localdb.lock      flock: held exclusively while a process decides to
 *                       start, attach or stop; serialises those decisions
 *   D/localdb.users     flock: every attached Fourscore process holds a
 *                       shared lock on it for as long as it is attached
 *
 * Opening: take localdb.lock exclusively; take a shared lock on
 * localdb.users; if the pid file names a live mariadbd of this data dir that
 * answers, attach; otherwise remove the stale pid file and socket a killed run
 * left, create the data directory if needed, run mariadbd as a child (its own
 * process group, so a Ctrl-C in the terminal reaches Fourscore, which stops
 * the server in order) and wait until it answers. Release localdb.lock.
 *
 * Closing: take localdb.lock exclusively; try to turn the shared lock on
 * localdb.users into an exclusive one without waiting. Success means no
 * other Fourscore process is attached: stop the server (SIGTERM, wait,
 * SIGKILL after a bound). Failure means others still use it: leave it
 * running. So the process that started the server stops it when it leaves
 * last; when it leaves first, the duty passes to whichever attached process
 * leaves last, and no mariadbd is left behind once every process is gone.
 * A process killed outright releases its locks with its death; the next
 * process to leave last stops the server it left running.
 *
 * Supervising: the process that started the server (while it runs `serve`,
 * localdb_supervise twice a second) notices when that server exits (a
 * stopped or frozen one is still alive) and starts it again under
 * localdb.lock, unless another mariadbd of the data dir runs by then. Only
 * that process does it: the others attached to the server share its
 * outcome.
 *
 * Every instance still open at exit() is closed by an atexit handler, so a
 * command that exits early does not leave the server running. A forked child
 * inherits nothing it would act on: an instance belongs to the pid that
 * opened it.
 */
#include "localdb.h"
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "config.h"
#include "err.h"
#include "clock.h"

extern char **environ;

#define LOCALDB_START_TIMEOUT_S   120   /* crash recovery of a big data dir takes a while */
#define LOCALDB_STOP_TIMEOUT_S    60
#define LOCALDB_MAX_ARGS          32
#define LOCALDB_LOG_MAX           (10 * 1024 * 1024)   /* mariadbd.log moves to .1 past this */
#define LOCALDB_DATABASE          "fourscore"
#define LOCALDB_RESTART_BACKOFF_S 2     /* after a failed restart; doubles up to the next */
#define LOCALDB_RESTART_BACKOFF_MAX_S 60

struct localdb {
    char data_dir[PATH_MAX];
    char server_dir[PATH_MAX];
    char tmp_dir[PATH_MAX];             /* the server's own tmpdir */
    char datadir_arg[PATH_MAX + 16];    /* "--datadir=<server_dir>" */
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char pid_path[PATH_MAX], log_path[PATH_MAX], cmd_path[PATH_MAX];
    char lock_path[PATH_MAX], users_path[PATH_MAX];
    char *argv[LOCALDB_MAX_ARGS];       /* the server's command line */
    int users_fd;                       /* shared lock while attached */
    bool started;                       /* this process ran the server */
    pid_t child;                        /* the server it ran */
    bool supervising;                   /* this process restarts it when it exits */
    time_t next_restart;                /* after a failed restart: not before */
    int restart_backoff_s;
    pid_t opener;                       /* the process the instance belongs to */
    localdb *next;
};

static pthread_mutex_t instances_mu = PTHREAD_MUTEX_INITIALIZER;
static localdb *instances;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t started_server_pid;   /* for localdb_stop_server */

/* --- small file helpers --- */

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc && errno != ENOENT ? -1 : 0;
}

int localdb_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) && errno == ENOENT) return 0;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

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

static pid_t read_pid_file(const char *path)
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
static bool pid_alive(pid_t pid)
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
static bool pid_runs_server(pid_t pid, const char *datadir_arg)
{
    if (!pid_alive(pid)) return false;
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

/* Lock fd with op, retrying when a signal interrupts the wait. */
static int flock_retry(int fd, int op)
{
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR) {}
    return rc;
}

static int open_lock(const char *path, int op, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock_retry(fd, op)) {
        set_err(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

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
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n && snprintf(out, cap, "%.*s/%s", (int)n, path, name) < (int)cap && access(out, X_OK) == 0) return 0;
        path += n + (path[n] == ':');
    }
    return -1;
}

static bool pid_is_our_server(const localdb *l, pid_t pid)
{
    return pid_runs_server(pid, l->datadir_arg);
}

static bool server_answers(const localdb *l)
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
static bool wait_gone(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (!pid_alive(pid)) return true;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !pid_alive(pid);
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

static void free_argv(char **argv)
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
static int install_server_dir(localdb *l, char *err, size_t errlen)
{
    char marker[PATH_MAX];
    if (path_join(marker, sizeof marker, l->server_dir, "mysql") == 0 && is_dir(marker)) return 0;
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
        free_argv(argv);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    off_t log_from = file_size(l->log_path);
    pid_t pid;
    if (spawn_logged(l, argv, &pid, err, errlen)) {
        free_argv(argv);
        return -1;
    }
    free_argv(argv);
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
    if (!why[0] && (path_join(made, sizeof made, staging_dir, "mysql") || !is_dir(made)))
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
static int build_server_command(localdb *l, char *err, size_t errlen)
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
    free_argv(l->argv);
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
static int start_server(localdb *l, char *err, size_t errlen)
{
    remove_stale_files(l);
    if (build_server_command(l, err, errlen)) return -1;
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
    started_server_pid = (sig_atomic_t)pid;
    time_t deadline = time(NULL) + LOCALDB_START_TIMEOUT_S;
    for (;;) {
        if (server_answers(l)) return 0;
        bool exited = !pid_alive(pid);
        if (exited || time(NULL) > deadline) {
            if (!exited) {
                kill(pid, SIGKILL);
                wait_gone(pid, 10);
            }
            l->started = false;
            l->child = 0;
            started_server_pid = 0;
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
static void stop_server(localdb *l)
{
    pid_t pid = read_pid_file(l->pid_path);
    if (pid <= 0 || !pid_is_our_server(l, pid)) pid = l->started ? l->child : -1;
    if (pid > 0 && pid_is_our_server(l, pid)) {
        kill(pid, SIGTERM);
        if (!wait_gone(pid, LOCALDB_STOP_TIMEOUT_S)) {
            fprintf(stderr, "fourscore: the local MariaDB server (pid %d) did not stop in %d s; killing it\n",
                    (int)pid, LOCALDB_STOP_TIMEOUT_S);
            kill(pid, SIGKILL);
            wait_gone(pid, 10);
        }
    }
    if (l->started && l->child > 0) pid_alive(l->child);   /* reap */
    if (started_server_pid == (sig_atomic_t)l->child) started_server_pid = 0;
    l->started = false;
    l->child = 0;
    l->supervising = false;
    remove_stale_files(l);
}

/* --- Ctrl-C and SIGTERM in a command that does not handle them --- */

/* A command that leaves SIGINT and SIGTERM to their default (every command
 * but serve, which waits for them itself) would die on Ctrl-C without
 * stopping the server it started. While such a process is attached, a
 * handler does what localdb_close would: leaving last, it stops the server;
 * then the signal takes its default course. Only async-signal-safe calls. */
static volatile sig_atomic_t signal_users_fd = -1;   /* the watched instance's users lock */
static volatile sig_atomic_t signal_owner_pid;       /* the process that set it (not a fork) */
static char signal_pid_path[PATH_MAX];
static char signal_datadir_arg[PATH_MAX + 16];

static void on_stop_signal(int sig)
{
    int saved_errno = errno;
    int fd = signal_users_fd;
    if (fd >= 0 && signal_owner_pid == (sig_atomic_t)getpid() && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        pid_t pid = read_pid_file(signal_pid_path);
        if (pid > 0 && pid_runs_server(pid, signal_datadir_arg) && kill(pid, SIGTERM) == 0)
            for (int i = 0; i < LOCALDB_STOP_TIMEOUT_S * 20 && pid_alive(pid); i++) {
                struct timespec ts = { 0, 50 * 1000000L };
                nanosleep(&ts, NULL);
            }
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);                     /* delivered when the handler returns */
    errno = saved_errno;
}

/* Watch l (the first instance of this process) when the stop signals are
 * left at their default and not blocked. Called with instances_mu held. */
static void watch_stop_signals(const localdb *l)
{
    if (signal_users_fd >= 0 && signal_owner_pid == (sig_atomic_t)getpid()) return;   /* a fork starts afresh */
    sigset_t blocked;
    if (pthread_sigmask(SIG_BLOCK, NULL, &blocked)) return;
    snprintf(signal_pid_path, sizeof signal_pid_path, "%s", l->pid_path);
    snprintf(signal_datadir_arg, sizeof signal_datadir_arg, "%s", l->datadir_arg);
    signal_owner_pid = (sig_atomic_t)getpid();
    signal_users_fd = l->users_fd;
    int sigs[] = { SIGINT, SIGTERM };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction cur;
        if (sigismember(&blocked, sigs[i]) || sigaction(sigs[i], NULL, &cur) || cur.sa_handler != SIG_DFL
            || (cur.sa_flags & SA_SIGINFO))
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Stop watching l (before its lock fd closes). Called with instances_mu held. */
static void unwatch_stop_signals(const localdb *l)
{
    if (signal_users_fd == l->users_fd && signal_owner_pid == (sig_atomic_t)getpid()) signal_users_fd = -1;
}

/* --- open and close --- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int make_paths(localdb *l, const char *data_dir, char *err, size_t errlen)
{
    if (mkdir_p(data_dir)) {
        set_err(err, errlen, "cannot create the data dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (!realpath(data_dir, l->data_dir)) {
        set_err(err, errlen, "cannot resolve the data dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (path_join(l->server_dir, sizeof l->server_dir, l->data_dir, "mariadb")
        || path_join(l->tmp_dir, sizeof l->tmp_dir, l->data_dir, "mariadb-tmp")
        || path_join(l->pid_path, sizeof l->pid_path, l->data_dir, "mariadbd.pid")
        || path_join(l->log_path, sizeof l->log_path, l->data_dir, "mariadbd.log")
        || path_join(l->cmd_path, sizeof l->cmd_path, l->data_dir, "mariadbd.cmd")
        || path_join(l->lock_path, sizeof l->lock_path, l->data_dir, "localdb.lock")
        || path_join(l->users_path, sizeof l->users_path, l->data_dir, "localdb.users")) {
        set_err(err, errlen, "the data dir path is too long: %s", l->data_dir);
        return -1;
    }
    snprintf(l->datadir_arg, sizeof l->datadir_arg, "--datadir=%s", l->server_dir);
    if (mkdir(l->tmp_dir, 0700) && errno != EEXIST) {
        set_err(err, errlen, "cannot create %s: %s", l->tmp_dir, strerror(errno));
        return -1;
    }
    /* A socket address holds 107 bytes; a deep data dir gets its socket in /tmp. */
    if (path_join(l->socket, sizeof l->socket, l->data_dir, "mysqld.sock"))
        snprintf(l->socket, sizeof l->socket, "/tmp/fourscore-%016llx.sock",
                 (unsigned long long)fnv1a(l->data_dir));
    return 0;
}

static void close_at_exit(void)
{
    for (;;) {
        pthread_mutex_lock(&instances_mu);
        localdb *l = instances;
        while (l && l->opener != getpid()) l = l->next;
        pthread_mutex_unlock(&instances_mu);
        if (!l) return;
        localdb_close(l);
    }
}

static void register_atexit(void) { atexit(close_at_exit); }

static void fill_url(const localdb *l, db_url *url)
{
    memset(url, 0, sizeof *url);
    snprintf(url->user, sizeof url->user, "root");
    snprintf(url->host, sizeof url->host, "localhost");
    snprintf(url->db, sizeof url->db, LOCALDB_DATABASE);
    snprintf(url->socket, sizeof url->socket, "%s", l->socket);
}

static int create_database(const localdb *l, char *err, size_t errlen)
{
    db_url u;
    fill_url(l, &u);
    u.db[0] = '\0';
    char cerr[512];
    db_conn *c = db_connect(&u, cerr, sizeof cerr);
    if (!c) {
        set_err(err, errlen, "%s", cerr);
        return -1;
    }
    int rc = db_exec_text(c, "CREATE DATABASE IF NOT EXISTS " LOCALDB_DATABASE
                          " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", cerr, sizeof cerr);
    db_close(c);
    if (rc) set_err(err, errlen, "creating the database " LOCALDB_DATABASE ": %s", cerr);
    return rc;
}

int localdb_open(const char *data_dir, localdb **out, db_url *url, char *err, size_t errlen)
{
    *out = NULL;
    if (!data_dir || !*data_dir) {
        set_err(err, errlen, "no data dir given for the local database");
        return -1;
    }
    localdb *l = calloc(1, sizeof *l);
    if (!l) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    l->users_fd = -1;
    l->opener = getpid();
    if (make_paths(l, data_dir, err, errlen)) {
        free(l);
        return -1;
    }
    int lock_fd = open_lock(l->lock_path, LOCK_EX, err, errlen);
    if (lock_fd < 0) {
        free(l);
        return -1;
    }
    l->users_fd = open_lock(l->users_path, LOCK_SH, err, errlen);
    if (l->users_fd < 0) goto fail;

    pid_t pid = read_pid_file(l->pid_path);
    bool running = pid > 0 && pid_is_our_server(l, pid);
    if (running) {
        /* Up, or still recovering after a restart by hand: give it time. */
        time_t deadline = time(NULL) + LOCALDB_START_TIMEOUT_S;
        while (!server_answers(l)) {
            if (!pid_is_our_server(l, pid)) {
                running = false;
                break;
            }
            if (time(NULL) > deadline) {
                set_err(err, errlen, "the local MariaDB server (pid %d) runs but does not answer on %s; "
                        "see %s", (int)pid, l->socket, l->log_path);
                goto fail;
            }
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    if (!running) {
        if (install_server_dir(l, err, errlen) || start_server(l, err, errlen)) goto fail;
        l->supervising = true;
    } else if (build_server_command(l, err, errlen)) {   /* for localdb_restart_server */
        goto fail;
    }
    if (create_database(l, err, errlen)) {
        if (l->started) stop_server(l);
        goto fail;
    }
    close(lock_fd);
    fill_url(l, url);
    pthread_once(&atexit_once, register_atexit);
    pthread_mutex_lock(&instances_mu);
    l->next = instances;
    instances = l;
    watch_stop_signals(l);
    pthread_mutex_unlock(&instances_mu);
    *out = l;
    return 0;
fail:
    if (l->users_fd >= 0) close(l->users_fd);
    close(lock_fd);
    free_argv(l->argv);
    free(l);
    return -1;
}

void localdb_close(localdb *l)
{
    if (!l) return;
    pthread_mutex_lock(&instances_mu);
    for (localdb **pp = &instances; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    unwatch_stop_signals(l);
    pthread_mutex_unlock(&instances_mu);
    if (l->opener == getpid()) {
        int lock_fd = open_lock(l->lock_path, LOCK_EX, NULL, 0);
        if (lock_fd >= 0) {
            if (flock(l->users_fd, LOCK_EX | LOCK_NB) == 0) stop_server(l);   /* the last one out */
            close(lock_fd);
        } else if (l->started) {
            fprintf(stderr, "fourscore: cannot lock %s (%s); leaving the local MariaDB server running\n",
                    l->lock_path, strerror(errno));
        }
    }
    if (l->users_fd >= 0) close(l->users_fd);
    free_argv(l->argv);
    free(l);
}

bool localdb_started_here(const localdb *l) { return l && l->started; }

void localdb_stop_server(void)
{
    pid_t pid = (pid_t)started_server_pid;
    if (pid > 0) kill(pid, SIGTERM);
}

pid_t localdb_pid(const localdb *l)
{
    pid_t pid = read_pid_file(l->pid_path);
    return pid > 0 && pid_is_our_server(l, pid) ? pid : -1;
}

const char *localdb_log_path(const localdb *l) { return l->log_path; }
const char *localdb_cmd_path(const localdb *l) { return l->cmd_path; }

/* --- supervising the server this process started --- */

/* A live mariadbd of this data dir: the pid file's, else any process whose
 * arguments name the data dir (one started by hand has not written its pid
 * file yet while it recovers). -1 when none runs. */
static pid_t find_running_server(const localdb *l)
{
    pid_t pid = read_pid_file(l->pid_path);
    if (pid > 0 && pid_is_our_server(l, pid)) return pid;
    DIR *d = opendir("/proc");
    if (!d) return -1;
    pid = -1;
    for (struct dirent *e; pid < 0 && (e = readdir(d)) != NULL;) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0 || v > INT32_MAX || (pid_t)v == getpid()) continue;
        if (pid_is_our_server(l, (pid_t)v)) pid = (pid_t)v;
    }
    closedir(d);
    return pid;
}

/* "was killed by signal 9 (Killed)" / "exited with status 1" */
static void describe_exit(int status, bool known, char *out, size_t cap)
{
    if (!known) snprintf(out, cap, "is gone");
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status)) snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else snprintf(out, cap, "ended");
}

int localdb_supervise(localdb *l)
{
    if (!l || !l->supervising || l->opener != getpid()) return 0;
    if (l->child > 0) {
        int status = 0;
        pid_t w;
        while ((w = waitpid(l->child, &status, WNOHANG)) < 0 && errno == EINTR) {}
        if (w == 0) return 0;                       /* running, or stopped: still there */
        bool known = w == l->child;
        if (!known && pid_alive(l->child)) return 0;  /* not a child we can wait for, but alive */
        char why[96];
        describe_exit(status, known, why, sizeof why);
        log_warn("localdb", "the local MariaDB server (pid %d) %s; restarting it (its log: %s)",
                 (int)l->child, why, l->log_path);
        if (started_server_pid == (sig_atomic_t)l->child) started_server_pid = 0;
        l->child = 0;
        l->started = false;
        l->next_restart = 0;
        l->restart_backoff_s = LOCALDB_RESTART_BACKOFF_S;
    }
    if (time(NULL) < l->next_restart) return 0;
    char err[2048];
    int lock_fd = open_lock(l->lock_path, LOCK_EX, err, sizeof err);
    if (lock_fd < 0) {
        log_error("localdb", "cannot restart the local MariaDB server: %s", err);
        l->next_restart = time(NULL) + l->restart_backoff_s;
        return -1;
    }
    pid_t other = find_running_server(l);
    if (other > 0) {                       /* someone started one meanwhile: use it, leave it to them */
        close(lock_fd);
        log_info("localdb", "another local MariaDB server (pid %d) runs on %s: using it", (int)other,
                 l->server_dir);
        l->supervising = false;
        return 0;
    }
    double t0 = clock_ms();
    int rc = start_server(l, err, sizeof err);
    close(lock_fd);
    if (rc != 0) {
        log_error("localdb", "restarting the local MariaDB server failed (next try in %d s): %s",
                  l->restart_backoff_s, err);
        l->next_restart = time(NULL) + l->restart_backoff_s;
        l->restart_backoff_s = l->restart_backoff_s * 2 > LOCALDB_RESTART_BACKOFF_MAX_S
                                   ? LOCALDB_RESTART_BACKOFF_MAX_S : l->restart_backoff_s * 2;
        return -1;
    }
    log_info("localdb", "the local MariaDB server was restarted (pid %d, answering after %.1f s)",
             (int)l->child, clock_seconds_since(t0));
    return 1;
}

/* --- for resilience tests --- */

int localdb_kill_server(localdb *l, char *err, size_t errlen)
{
    pid_t pid = localdb_pid(l);
    if (pid <= 0) {
        set_err(err, errlen, "the local MariaDB server is not running");
        return -1;
    }
    kill(pid, SIGKILL);
    if (!wait_gone(pid, 10)) {
        set_err(err, errlen, "the local MariaDB server (pid %d) survived SIGKILL", (int)pid);
        return -1;
    }
    return 0;
}

int localdb_restart_server(localdb *l, char *err, size_t errlen)
{
    int lock_fd = open_lock(l->lock_path, LOCK_EX, err, errlen);
    if (lock_fd < 0) return -1;
    int rc = 0;
    if (localdb_pid(l) <= 0) rc = start_server(l, err, errlen);
    close(lock_fd);
    return rc;
}
