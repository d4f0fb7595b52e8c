/* localdb_private: what the files of local mode share and nobody else
 * includes: the instance, and the calls between them.
 *   localdb.c            the data dir's files and locks; open (create, start
 *                        or attach), close (stop when last), Ctrl-C
 *   localdb_server.c     the mariadbd process: pid checks, creating its data
 *                        directory, its command line, starting and stopping it
 *   localdb_supervise.c  noticing that the server this process started has
 *                        exited and starting it again; the resilience-test calls
 * The public side is localdb.h (this header repeats its typedef so that it
 * stands alone). */
#ifndef FS_LOCALDB_PRIVATE_H
#define FS_LOCALDB_PRIVATE_H
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

typedef struct localdb localdb;

#define LOCALDB_START_TIMEOUT_S   120   /* crash recovery of a big data dir takes a while */
#define LOCALDB_STOP_TIMEOUT_S    60
#define LOCALDB_MAX_ARGS          32

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

/* The server this process started, for localdb_stop_server (0: none). */
extern volatile sig_atomic_t localdb_started_pid;

/* --- localdb.c --- */

/* "dir/name" into out; -1 when it does not fit. */
int localdb_path_join(char *out, size_t cap, const char *dir, const char *name);
/* Open (creating) the lock file path and flock it with op; the fd, or -1 with err. */
int localdb_lock(const char *path, int op, char *err, size_t errlen);

/* --- localdb_server.c: process checks, without stdio or locks (the signal
 * handler uses them too) --- */

/* The pid a pid file names, or -1. */
pid_t localdb_read_pid_file(const char *path);
/* Whether pid is a live (not zombie) process. Reaps it when it is our child. */
bool localdb_pid_alive(pid_t pid);
/* Whether pid is a live process with datadir_arg ("--datadir=...") among its
 * arguments: our server, not a recycled pid. */
bool localdb_pid_runs_server(pid_t pid, const char *datadir_arg);

/* --- localdb_server.c: the server process --- */

/* Whether pid is the server of l's data dir. */
bool localdb_pid_is_ours(const localdb *l, pid_t pid);
/* Whether the server answers on l's socket. */
bool localdb_server_answers(const localdb *l);
/* Wait until pid is gone, up to seconds. */
bool localdb_wait_gone(pid_t pid, int seconds);
void localdb_free_argv(char **argv);
/* Create the server's data directory the first time. */
int localdb_server_install(localdb *l, char *err, size_t errlen);
/* The server's command line, kept in l->argv and written to mariadbd.cmd. */
int localdb_server_command(localdb *l, char *err, size_t errlen);
/* Run the server and wait until it answers. Called with localdb.lock held. */
int localdb_server_start(localdb *l, char *err, size_t errlen);
/* SIGTERM the server and wait for it (SIGKILL after the bound). */
void localdb_server_stop(localdb *l);
#endif
