/* localdb: the private MariaDB server of local mode (see localdb.h): the
 * data dir's files and locks, opening (create, start or attach) and closing
 * (stop when last), and Ctrl-C in a command. The mariadbd process itself
 * (pid checks, creating, starting, stopping) is localdb_server.c; restarting
 * a server that exited is localdb_supervise.c; what they share is
 * localdb_private.h.
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
#include "localdb_private.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "err.h"

#define LOCALDB_DATABASE          "fourscore"

static pthread_mutex_t instances_mu = PTHREAD_MUTEX_INITIALIZER;
static localdb *instances;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

/* --- small file helpers --- */

int localdb_path_join(char *out, size_t cap, const char *dir, const char *name)
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

/* --- locks --- */

/* Lock fd with op, retrying when a signal interrupts the wait. */
static int flock_retry(int fd, int op)
{
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR) {}
    return rc;
}

int localdb_lock(const char *path, int op, char *err, size_t errlen)
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
        pid_t pid = localdb_read_pid_file(signal_pid_path);
        if (pid > 0 && localdb_pid_runs_server(pid, signal_datadir_arg) && kill(pid, SIGTERM) == 0)
            for (int i = 0; i < LOCALDB_STOP_TIMEOUT_S * 20 && localdb_pid_alive(pid); i++) {
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
    if (localdb_path_join(l->server_dir, sizeof l->server_dir, l->data_dir, "mariadb")
        || localdb_path_join(l->tmp_dir, sizeof l->tmp_dir, l->data_dir, "mariadb-tmp")
        || localdb_path_join(l->pid_path, sizeof l->pid_path, l->data_dir, "mariadbd.pid")
        || localdb_path_join(l->log_path, sizeof l->log_path, l->data_dir, "mariadbd.log")
        || localdb_path_join(l->cmd_path, sizeof l->cmd_path, l->data_dir, "mariadbd.cmd")
        || localdb_path_join(l->lock_path, sizeof l->lock_path, l->data_dir, "localdb.lock")
        || localdb_path_join(l->users_path, sizeof l->users_path, l->data_dir, "localdb.users")) {
        set_err(err, errlen, "the data dir path is too long: %s", l->data_dir);
        return -1;
    }
    snprintf(l->datadir_arg, sizeof l->datadir_arg, "--datadir=%s", l->server_dir);
    if (mkdir(l->tmp_dir, 0700) && errno != EEXIST) {
        set_err(err, errlen, "cannot create %s: %s", l->tmp_dir, strerror(errno));
        return -1;
    }
    /* A socket address holds 107 bytes; a deep data dir gets its socket in /tmp. */
    if (localdb_path_join(l->socket, sizeof l->socket, l->data_dir, "mysqld.sock"))
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
    int lock_fd = localdb_lock(l->lock_path, LOCK_EX, err, errlen);
    if (lock_fd < 0) {
        free(l);
        return -1;
    }
    l->users_fd = localdb_lock(l->users_path, LOCK_SH, err, errlen);
    if (l->users_fd < 0) goto fail;

    pid_t pid = localdb_read_pid_file(l->pid_path);
    bool running = pid > 0 && localdb_pid_is_ours(l, pid);
    if (running) {
        /* Up, or still recovering after a restart by hand: give it time. */
        time_t deadline = time(NULL) + LOCALDB_START_TIMEOUT_S;
        while (!localdb_server_answers(l)) {
            if (!localdb_pid_is_ours(l, pid)) {
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
        if (localdb_server_install(l, err, errlen) || localdb_server_start(l, err, errlen)) goto fail;
        l->supervising = true;
    } else if (localdb_server_command(l, err, errlen)) {   /* for localdb_restart_server */
        goto fail;
    }
    if (create_database(l, err, errlen)) {
        if (l->started) localdb_server_stop(l);
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
    localdb_free_argv(l->argv);
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
        int lock_fd = localdb_lock(l->lock_path, LOCK_EX, NULL, 0);
        if (lock_fd >= 0) {
            if (flock(l->users_fd, LOCK_EX | LOCK_NB) == 0) localdb_server_stop(l);   /* the last one out */
            close(lock_fd);
        } else if (l->started) {
            fprintf(stderr, "fourscore: cannot lock %s (%s); leaving the local MariaDB server running\n",
                    l->lock_path, strerror(errno));
        }
    }
    if (l->users_fd >= 0) close(l->users_fd);
    localdb_free_argv(l->argv);
    free(l);
}

bool localdb_started_here(const localdb *l) { return l && l->started; }

void localdb_stop_server(void)
{
    pid_t pid = (pid_t)localdb_started_pid;
    if (pid > 0) kill(pid, SIGTERM);
}

pid_t localdb_pid(const localdb *l)
{
    pid_t pid = localdb_read_pid_file(l->pid_path);
    return pid > 0 && localdb_pid_is_ours(l, pid) ? pid : -1;
}

const char *localdb_log_path(const localdb *l) { return l->log_path; }
const char *localdb_cmd_path(const localdb *l) { return l->cmd_path; }
