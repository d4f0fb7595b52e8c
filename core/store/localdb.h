/* localdb: local mode. With no database URL Fourscore runs its own private
 * MariaDB server (mariadbd) in the data dir: created on first use, reached
 * over a unix socket only, shared by every Fourscore process that uses the
 * same data dir, and stopped when the last of them leaves. The protocol is
 * described at the top of localdb.c. The test suite starts its databases
 * with the same code (tests/unit/testdb.h). */
#ifndef FS_LOCALDB_H
#define FS_LOCALDB_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "db.h"

typedef struct localdb localdb;

/* Start (creating it the first time) or attach to the local server of
 * data_dir; fills url (root over the socket, database "fourscore").
 * Creating and starting print a line each on stderr for the person waiting.
 * 0, or -1 with err (with the tail of the server's log when it failed to
 * start). */
int localdb_open(const char *data_dir, localdb **out, db_url *url, char *err, size_t errlen);
/* Detach; stops the server if this is the last process attached. NULL is fine.
 * Instances still open at exit() are closed then. A process that leaves
 * SIGINT and SIGTERM at their default (not blocked, no handler) gets a
 * handler while attached that does the same before the signal ends it, so a
 * Ctrl-C on a command does not leave the server running. */
void localdb_close(localdb *l);
/* Whether this process started the server it is attached to. */
bool localdb_started_here(const localdb *l);

/* For the process that started the server (serve calls it twice a second):
 * when that server has exited (killed, crashed; not one merely stopped or
 * frozen, which is still there), start it again, with a log line each for
 * the exit and the restart. A server another process started, or one that
 * someone started by hand meanwhile, is left alone. 1 after a restart, 0
 * when there was nothing to do, -1 when the restart failed (tried again
 * later, at growing intervals up to a minute). */
int localdb_supervise(localdb *l);

/* For a signal handler (async-signal-safe): ask the server this process
 * started to shut down (SIGTERM), without waiting. The normal path is
 * localdb_close, which also honours the other attached processes. */
void localdb_stop_server(void);

/* The pid of the running mariadbd (from its pid file), or -1. */
pid_t localdb_pid(const localdb *l);
/* The server's files: mariadbd.log (its output) and mariadbd.cmd, a shell
 * script holding the exact command line that runs it. */
const char *localdb_log_path(const localdb *l);
const char *localdb_cmd_path(const localdb *l);

/* --- for resilience tests --- */
/* kill -9 the server and wait until it is gone (its pid file and socket stay
 * behind, as after a crash). */
int localdb_kill_server(localdb *l, char *err, size_t errlen);
/* Run the server again with the same command line (as `sh mariadbd.cmd`
 * would) and wait until it answers. */
int localdb_restart_server(localdb *l, char *err, size_t errlen);

/* Remove a directory tree (used for temporary data dirs). 0 or -1. */
int localdb_remove_tree(const char *path);

/* Environment knobs: FOURSCORE_MARIADBD and FOURSCORE_MARIADB_INSTALL_DB
 * (the programs; default: found in /usr/sbin, /usr/bin, then $PATH);
 * FOURSCORE_LOCALDB_BUFFER_POOL (innodb_buffer_pool_size, default 256M). */
#endif
