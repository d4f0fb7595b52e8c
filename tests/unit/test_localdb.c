/* test_localdb: local mode's private MariaDB (core/store/localdb.c): creating and
 * starting it, attaching from other processes and threads, who stops it and
 * when, recovering from a killed run (stale pid file and socket), the
 * mariadbd.cmd script, long data dir paths, and the error shown when the
 * server cannot start. Every case uses its own temporary data dir. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "testdb.h"

static char base_dir[PATH_MAX];

static void fresh_dir(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", base_dir, name);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "test_localdb: path too long: %s/%s\n", base_dir, name);
        exit(1);
    }
}

static bool file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A live process that is not a zombie. */
static bool running(pid_t pid)
{
    if (pid <= 0) return false;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    char path[64], buf[512] = { 0 };
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[2] != 'Z';
}

static bool wait_stopped(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (!running(pid)) return true;
        usleep(50000);
    }
    return !running(pid);
}

/* Whether the server at url answers a query with the fourscore database. */
static bool answers(const db_url *url)
{
    char err[512];
    db_conn *c = db_connect(url, err, sizeof err);
    if (!c) return false;
    static const char SQL_DB[] = "SELECT DATABASE()";
    db_result *r;
    bool ok = db_query(c, SQL_DB, NULL, 0, &r, err, sizeof err) == 0;
    if (ok) {
        ok = r->nrows == 1 && db_cell(r, 0, 0) && strcmp(db_cell(r, 0, 0), "fourscore") == 0;
        db_result_free(r);
    }
    db_close(c);
    return ok;
}

static pid_t read_pid(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/mariadbd.pid", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int pid = -1;
    if (fscanf(f, "%d", &pid) != 1) pid = -1;
    fclose(f);
    return pid;
}

/* --- creating and starting --- */

static void test_create(void)
{
    char dir[PATH_MAX], err[2048], path[PATH_MAX + 32];
    fresh_dir(dir, sizeof dir, "create");
    localdb *l = NULL;
    db_url url;
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "create: open a new data dir (%s)", err);
    if (!l) return;
    CHECK(localdb_started_here(l), "create: this process started the server");
    snprintf(path, sizeof path, "%s/mariadb/mysql", dir);
    CHECK(file_exists(path), "create: the server's data directory exists");
    snprintf(path, sizeof path, "%s/mysqld.sock", dir);
    CHECK_STR(url.socket, path, "create: the socket is in the data dir");
    CHECK_STR(url.db, "fourscore", "create: database fourscore");
    CHECK_STR(url.user, "root", "create: user root");
    CHECK(file_exists(localdb_cmd_path(l)) && file_exists(localdb_log_path(l)), "create: mariadbd.cmd and mariadbd.log");
    pid_t pid = localdb_pid(l);
    CHECK(pid > 0 && running(pid) && pid == read_pid(dir), "create: the pid file names the running server (%d)", (int)pid);
    CHECK(answers(&url), "create: the server answers with database fourscore");

    db_conn *c = db_connect(&url, err, sizeof err);
    static const char SQL_VARS[] =
        "SELECT @@skip_networking, @@character_set_server, @@collation_server, @@log_bin,"
        " (SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'fourscore')";
    db_result *r = NULL;
    if (c && db_query(c, SQL_VARS, NULL, 0, &r, err, sizeof err) == 0) {
        CHECK_STR(db_cell(r, 0, 0), "1", "create: no TCP (skip_networking)");
        CHECK_STR(db_cell(r, 0, 1), "utf8mb4", "create: utf8mb4 server charset");
        CHECK_STR(db_cell(r, 0, 2), "utf8mb4_unicode_ci", "create: utf8mb4_unicode_ci collation");
        CHECK_STR(db_cell(r, 0, 3), "0", "create: no binary log");
        CHECK_STR(db_cell(r, 0, 4), "utf8mb4", "create: database fourscore is utf8mb4");
        db_result_free(r);
    } else {
        CHECK(0, "create: server variables (%s)", err);
    }
    if (c) db_close(c);

    localdb_close(l);
    CHECK(wait_stopped(pid, 1), "create: closing the only user stops the server");
    CHECK(!file_exists(url.socket) && read_pid(dir) < 0, "create: socket and pid file gone");

    /* Second start on the same dir: no new install, data kept. */
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "create: open again (%s)", err);
    if (l) {
        CHECK(localdb_started_here(l) && answers(&url), "create: started again from the existing data dir");
        localdb_close(l);
    }
}

/* --- other processes --- */

/* In a child: open dir, report whether it started the server, answer, and
 * the pid; then wait for a byte on go (if >= 0) before closing. Exit code:
 * 0 ok and attached, 10 ok and started, 1 failure. */
static int child_attach(const char *dir, int ready_fd, int go_fd)
{
    localdb *l;
    db_url url;
    char err[2048];
    if (localdb_open(dir, &l, &url, err, sizeof err)) {
        fprintf(stderr, "child: %s\n", err);
        return 1;
    }
    bool started = localdb_started_here(l);
    bool ok = answers(&url);
    if (ready_fd >= 0) {
        char b = ok ? 'y' : 'n';
        if (write(ready_fd, &b, 1) != 1) ok = false;
    }
    if (go_fd >= 0) {
        char b;
        if (read(go_fd, &b, 1) != 1) ok = false;
    }
    localdb_close(l);
    return !ok ? 1 : started ? 10 : 0;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void test_attach(void)
{
    char dir[PATH_MAX], err[2048];
    fresh_dir(dir, sizeof dir, "attach");
    localdb *l = NULL;
    db_url url;
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "attach: owner opens (%s)", err);
    if (!l) return;
    pid_t server = localdb_pid(l);

    /* A second process attaches and leaves: the server stays. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(child_attach(dir, -1, -1));
    CHECK_INT(wait_child(child), 0, "attach: a second process attaches (not starting a server) and leaves");
    CHECK(running(server) && answers(&url), "attach: a non-owner leaving does not stop the server");

    /* The owner leaves while another process is attached: the server stays
     * until that process leaves too. */
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) return;
    fflush(stdout);
    child = fork();
    if (child == 0) {
        close(ready[0]);
        close(go[1]);
        _exit(child_attach(dir, ready[1], go[0]));
    }
    close(ready[1]);
    close(go[0]);
    char b = 0;
    CHECK(read(ready[0], &b, 1) == 1 && b == 'y', "attach: the second process is attached");
    localdb_close(l);
    CHECK(running(server) && answers(&url), "attach: the owner leaving while another is attached leaves it running");
    CHECK(write(go[1], "x", 1) == 1, "attach: tell the second process to leave");
    CHECK_INT(wait_child(child), 0, "attach: the second process left cleanly");
    CHECK(wait_stopped(server, 5), "attach: the last process to leave stopped the server");
    CHECK(!file_exists(url.socket), "attach: its socket is gone");
    close(ready[0]);
    close(go[1]);
}

/* Two processes open a new data dir at the same time: one creates and
 * starts, the other attaches; when both are gone so is the server. */
static void test_race(void)
{
    char dir[PATH_MAX];
    fresh_dir(dir, sizeof dir, "race");
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) return;
    pid_t kids[2];
    fflush(stdout);
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            close(ready[0]);
            close(go[1]);
            _exit(child_attach(dir, ready[1], go[0]));
        }
    }
    close(ready[1]);
    close(go[0]);
    char b[2] = { 0 };
    int got = (int)read(ready[0], &b[0], 1) + (int)read(ready[0], &b[1], 1);
    CHECK(got == 2 && b[0] == 'y' && b[1] == 'y', "race: both processes are attached");
    pid_t server = read_pid(dir);
    CHECK(server > 0 && running(server), "race: one server runs");
    if (write(go[1], "xx", 2) != 2) CHECK(0, "race: release the processes");
    int rc0 = wait_child(kids[0]), rc1 = wait_child(kids[1]);
    CHECK((rc0 == 10 && rc1 == 0) || (rc0 == 0 && rc1 == 10), "race: exactly one started the server (%d, %d)", rc0, rc1);
    CHECK(wait_stopped(server, 5), "race: the server stopped when both left");
    close(ready[0]);
    close(go[1]);
}

/* --- killed runs --- */

static void test_stale(void)
{
    char dir[PATH_MAX], err[2048], pidpath[PATH_MAX + 16];
    fresh_dir(dir, sizeof dir, "stale");
    snprintf(pidpath, sizeof pidpath, "%s/mariadbd.pid", dir);

    /* 1. The owner is killed: the server it left runs on; the next process
     * attaches to it and, leaving last, stops it. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        localdb *l;
        db_url url;
        if (localdb_open(dir, &l, &url, err, sizeof err)) _exit(1);
        raise(SIGKILL);
        _exit(2);
    }
    CHECK_INT(wait_child(child), 128 + SIGKILL, "stale: the owner was killed");
    pid_t orphan = read_pid(dir);
    CHECK(orphan > 0 && running(orphan), "stale: its server still runs (%d)", (int)orphan);
    localdb *l = NULL;
    db_url url;
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "stale: open attaches (%s)", err);
    if (l) {
        CHECK(!localdb_started_here(l) && localdb_pid(l) == orphan, "stale: to the running server");
        localdb_close(l);
        CHECK(wait_stopped(orphan, 5), "stale: leaving last stops the server a killed owner left");
    }

    /* 2. Server and owner killed: a stale pid file and socket remain. */
    fflush(stdout);
    child = fork();
    if (child == 0) {
        localdb *lc;
        db_url uc;
        if (localdb_open(dir, &lc, &uc, err, sizeof err)) _exit(1);
        kill(localdb_pid(lc), SIGKILL);
        raise(SIGKILL);
        _exit(2);
    }
    CHECK_INT(wait_child(child), 128 + SIGKILL, "stale: owner and server killed");
    pid_t dead = read_pid(dir);
    wait_stopped(dead, 5);
    CHECK(dead > 0 && !running(dead), "stale: a pid file names a dead server");
    CHECK(file_exists(url.socket), "stale: the socket file is left behind");
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "stale: open recovers (%s)", err);
    if (l) {
        CHECK(localdb_started_here(l) && answers(&url), "stale: a new server started and answers");
        CHECK(localdb_pid(l) != dead, "stale: with a new pid");
        localdb_close(l);
    }

    /* 3. The pid file names a live process that is not our server (a pid
     * used again): it is not mistaken for the server, nor signalled. */
    FILE *f = fopen(pidpath, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "stale: pid file naming another process (%s)", err);
    if (l) {
        CHECK(localdb_started_here(l) && localdb_pid(l) != getpid() && answers(&url),
              "stale: a server of its own was started");
        localdb_close(l);
    }
}

/* --- restarting by hand, stopping from a signal handler --- */

static void test_cmd_and_signal(void)
{
    char dir[PATH_MAX], err[2048], cmd[PATH_MAX + 64];
    fresh_dir(dir, sizeof dir, "cmd");
    localdb *l = NULL;
    db_url url;
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "cmd: open (%s)", err);
    if (!l) return;
    pid_t first = localdb_pid(l);
    CHECK_INT(localdb_kill_server(l, err, sizeof err), 0, "cmd: kill -9 the server (%s)", err);
    CHECK(!answers(&url), "cmd: it no longer answers");
    /* What a test harness does: run mariadbd.cmd again. */
    snprintf(cmd, sizeof cmd, "sh '%s' &", localdb_cmd_path(l));
    CHECK_INT(system(cmd), 0, "cmd: sh mariadbd.cmd");
    bool up = false;
    for (int i = 0; i < 400 && !up; i++) {
        up = answers(&url);
        if (!up) usleep(50000);
    }
    CHECK(up, "cmd: the server runs again from mariadbd.cmd");
    pid_t second = localdb_pid(l);
    CHECK(second > 0 && second != first, "cmd: a new server process (%d)", (int)second);
    localdb_close(l);
    CHECK(wait_stopped(second, 5), "cmd: closing stops the server run by hand too");

    /* localdb_stop_server: what a signal handler may call. */
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "signal: open (%s)", err);
    if (!l) return;
    pid_t pid = localdb_pid(l);
    localdb_stop_server();
    CHECK(wait_stopped(pid, 30), "signal: localdb_stop_server makes the server exit");
    localdb_close(l);
    CHECK(!file_exists(url.socket), "signal: close after that cleans up");
}

/* --- Ctrl-C in a command --- */

/* A child opens dir (started or attached) and waits; the parent sends it
 * SIGINT as a terminal's Ctrl-C would. */
static void test_ctrl_c(void)
{
    char dir[PATH_MAX], err[2048];
    fresh_dir(dir, sizeof dir, "ctrlc");
    for (int round = 0; round < 2; round++) {
        localdb *l = NULL;
        db_url url;
        if (round == 1 && localdb_open(dir, &l, &url, err, sizeof err)) {
            CHECK(0, "ctrl-c: the parent attaches first (%s)", err);
            return;
        }
        int ready[2], go[2];
        if (pipe(ready) || pipe(go)) return;
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            close(ready[0]);
            close(go[1]);
            signal(SIGINT, SIG_DFL);
            _exit(child_attach(dir, ready[1], go[0]));
        }
        close(ready[1]);
        close(go[0]);
        char b = 0;
        CHECK(read(ready[0], &b, 1) == 1 && b == 'y', "ctrl-c (%s): the command is attached",
              round ? "another process attached" : "alone");
        pid_t server = read_pid(dir);
        kill(child, SIGINT);
        int status = 0;
        waitpid(child, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "ctrl-c: the command died of SIGINT");
        if (round == 0) {
            CHECK(wait_stopped(server, 10), "ctrl-c: alone, it stopped the server it started on the way out");
        } else {
            CHECK(running(server) && answers(&url), "ctrl-c: with another process attached, the server stays");
            localdb_close(l);
            CHECK(wait_stopped(server, 10), "ctrl-c: and stops when that process leaves");
        }
        close(ready[0]);
        close(go[1]);
    }
}

/* --- paths and failures --- */

static void test_long_path(void)
{
    char dir[PATH_MAX + 256], err[2048];
    snprintf(dir, sizeof dir, "%s/a-rather-long-directory-name-for-the-data-of-fourscore/"
             "and-another-level-so-that-the-socket-path-exceeds-what-sun-path-holds", base_dir);
    localdb *l = NULL;
    db_url url;
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "long path: open (%s)", err);
    if (!l) return;
    CHECK(strncmp(url.socket, "/tmp/fourscore-", 15) == 0 && strlen(url.socket) < 108,
          "long path: the socket moves to /tmp (%s)", url.socket);
    CHECK(answers(&url), "long path: the server answers");
    pid_t pid = localdb_pid(l);
    localdb_close(l);
    CHECK(wait_stopped(pid, 5) && !file_exists(url.socket), "long path: stopped, socket removed");
}

static void test_start_failure(void)
{
    char dir[PATH_MAX], err[4096], script[PATH_MAX + 16];
    fresh_dir(dir, sizeof dir, "broken");
    snprintf(script, sizeof script, "%s/fake-mariadbd", base_dir);
    FILE *f = fopen(script, "w");
    if (!f) return;
    fprintf(f, "#!/bin/sh\necho \"[ERROR] InnoDB: simulated start failure\" >&2\nexit 1\n");
    fclose(f);
    chmod(script, 0755);
    setenv("FOURSCORE_MARIADBD", script, 1);
    localdb *l = NULL;
    db_url url;
    int rc = localdb_open(dir, &l, &url, err, sizeof err);
    unsetenv("FOURSCORE_MARIADBD");
    CHECK(rc == -1 && l == NULL, "failure: a server that cannot start fails the open");
    CHECK(strstr(err, "simulated start failure") && strstr(err, "mariadbd.log"),
          "failure: the error shows the log's tail: %s", err);
    setenv("FOURSCORE_MARIADBD", "/nonexistent/mariadbd", 1);
    rc = localdb_open(dir, &l, &url, err, sizeof err);
    unsetenv("FOURSCORE_MARIADBD");
    CHECK(rc == -1 && strstr(err, "mariadbd not found"), "failure: a missing program is named: %s", err);
    /* And the dir is fine afterwards. */
    CHECK_INT(localdb_open(dir, &l, &url, err, sizeof err), 0, "failure: the same dir opens with the real server (%s)", err);
    if (l) localdb_close(l);
}

/* --- threads --- */

typedef struct opener {
    const char *dir;
    int ok;
} opener;

static void *thread_open(void *arg)
{
    opener *o = arg;
    for (int k = 0; k < 3; k++) {
        localdb *l;
        db_url url;
        char err[2048];
        if (localdb_open(o->dir, &l, &url, err, sizeof err)) {
            fprintf(stderr, "thread: %s\n", err);
            continue;
        }
        if (answers(&url)) o->ok++;
        localdb_close(l);
    }
    return NULL;
}

static void test_threads(void)
{
    char dir[PATH_MAX];
    fresh_dir(dir, sizeof dir, "threads");
    opener o[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        o[k] = (opener){ .dir = dir };
        pthread_create(&th[k], NULL, thread_open, &o[k]);
    }
    int ok = 0;
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        ok += o[k].ok;
    }
    CHECK_INT(ok, 12, "threads: 4 threads x 3 open/query/close on one data dir");
    pid_t pid = read_pid(dir);
    CHECK(pid < 0 || wait_stopped(pid, 5), "threads: no server left running");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/fourscore-localdb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base_dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("FOURSCORE_LOCALDB_BUFFER_POOL", "32M", 0);
    test_create();
    test_attach();
    test_race();
    test_stale();
    test_cmd_and_signal();
    test_ctrl_c();
    test_long_path();
    test_start_failure();
    test_threads();
    if (check_failed) printf("# kept %s for a look\n", base_dir);   /* the servers' logs */
    else localdb_remove_tree(base_dir);
    return check_done();
}
