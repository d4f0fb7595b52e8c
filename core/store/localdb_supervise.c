/* localdb_supervise: for the process that started the local server (see
 * localdb.h), noticing that it has exited and starting it again, with a log
 * line each and a growing pause after a failed restart; and the calls the
 * resilience tests use to kill and restart it. Part of local mode
 * (core/store/localdb*.c, localdb_private.h). */
#include "localdb.h"
#include "localdb_private.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "err.h"
#include "clock.h"

#define LOCALDB_RESTART_BACKOFF_S 2     /* after a failed restart; doubles up to the next */
#define LOCALDB_RESTART_BACKOFF_MAX_S 60

/* --- supervising the server this process started --- */

/* A live mariadbd of this data dir: the pid file's, else any process whose
 * arguments name the data dir (one started by hand has not written its pid
 * file yet while it recovers). -1 when none runs. */
static pid_t find_running_server(const localdb *l)
{
    pid_t pid = localdb_read_pid_file(l->pid_path);
    if (pid > 0 && localdb_pid_is_ours(l, pid)) return pid;
    DIR *d = opendir("/proc");
    if (!d) return -1;
    pid = -1;
    for (struct dirent *e; pid < 0 && (e = readdir(d)) != NULL;) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0 || v > INT32_MAX || (pid_t)v == getpid()) continue;
        if (localdb_pid_is_ours(l, (pid_t)v)) pid = (pid_t)v;
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
        if (!known && localdb_pid_alive(l->child)) return 0;  /* not a child we can wait for, but alive */
        char why[96];
        describe_exit(status, known, why, sizeof why);
        log_warn("localdb", "the local MariaDB server (pid %d) %s; restarting it (its log: %s)",
                 (int)l->child, why, l->log_path);
        if (localdb_started_pid == (sig_atomic_t)l->child) localdb_started_pid = 0;
        l->child = 0;
        l->started = false;
        l->next_restart = 0;
        l->restart_backoff_s = LOCALDB_RESTART_BACKOFF_S;
    }
    if (time(NULL) < l->next_restart) return 0;
    char err[2048];
    int lock_fd = localdb_lock(l->lock_path, LOCK_EX, err, sizeof err);
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
    int rc = localdb_server_start(l, err, sizeof err);
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
    if (!localdb_wait_gone(pid, 10)) {
        set_err(err, errlen, "the local MariaDB server (pid %d) survived SIGKILL", (int)pid);
        return -1;
    }
    return 0;
}

int localdb_restart_server(localdb *l, char *err, size_t errlen)
{
    int lock_fd = localdb_lock(l->lock_path, LOCK_EX, err, errlen);
    if (lock_fd < 0) return -1;
    int rc = 0;
    if (localdb_pid(l) <= 0) rc = localdb_server_start(l, err, errlen);
    close(lock_fd);
    return rc;
}
