/* access_private: what the files of core/access/ share among themselves and
 * nobody else includes: the limits of names and secrets, string lists, and
 * the password and secret hashing. The public side is auth.h. */
#ifndef FS_ACCESS_PRIVATE_H
#define FS_ACCESS_PRIVATE_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include <sodium.h>
#include "auth.h"
#include "config.h"

/* --- constants --- */

#define SECRET_BYTES        32            /* session ids and token secrets */
#define HASH_HEX_LEN        64            /* crypto_generichash 32 bytes, hex */
#define TOKEN_PREFIX        "fs_"         /* token secrets: fs_ + 64 hex */
#define LOGIN_WINDOW_S      900           /* 15 minutes */
#define LOGIN_MAX_PER_USER  5             /* failures per user name per window */
#define LOGIN_MAX_PER_ADDR  20            /* failures per client address per window */
#define PASSWORD_MIN        8
#define PASSWORD_MAX        AUTH_PASSWORD_MAX
#define NAME_MAX_LEN        64            /* user and token names */
#define CODE_MAX_LEN        32            /* store and region codes (docs/import.md) */
#define DB_WAIT_MS          5000
#define PWHASH_PARALLEL     4             /* Argon2id runs at once (memory bound) */
#define AUDIT_DETAIL_MAX    8000
#define TOUCH_EVERY_S       60            /* refresh a session's last_seen at most this often */

/* string lists (scope.c) */
int strv_push(char ***v, int *n, const char *s);
void strv_free(char **v, int n);
bool strv_has(char *const *v, int n, const char *s);
void copy_bounded(char *dst, size_t cap, const char *src);
/* User and token names: [A-Za-z0-9_.-]{1,64}. */
bool valid_name(const char *s);
/* Store and region codes: [A-Za-z0-9_-]{1,32} (docs/import.md). */
bool valid_code(const char *s);
/* Length of the longest prefix of s of at most max bytes that does not cut
 * a UTF-8 sequence. */
size_t utf8_prefix_len(const char *s, size_t max);
bool is_hex(const char *s, size_t n);
/* Fill the scope of a user principal from the database. 0, or -2 (err). */
int principal_load_scope(db_conn *c, principal *p, const char *store_code, char *err, size_t errlen);

/* secrets and password hashing (secrets.c) */
int crypto_ready(void);
/* hex of crypto_generichash(secret): what the database keeps of a session id or token. */
void secret_hash_hex(const char *secret, char out[HASH_HEX_LEN + 1]);
void random_hex(char out[2 * SECRET_BYTES + 1]);
void pwhash_cost(const config *cfg, unsigned long long *ops, size_t *mem);
int password_hash(const config *cfg, const char *password, char out[crypto_pwhash_STRBYTES], char *err, size_t errlen);
bool password_verify(const char *stored, const char *password);

/* audit_log with a JSON detail built by the caller (takes ownership) (audit.c). */
int audit_json(db_conn *c, const principal *who, const char *action, const char *target,
               cJSON *detail, char *err, size_t errlen);
#endif
