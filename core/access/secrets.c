/* secrets: session ids and token secrets (random, kept only as their
 * crypto_generichash in hex) and passwords (Argon2id strings from
 * crypto_pwhash_str, at most PWHASH_PARALLEL hashed at once so that a burst
 * of logins cannot exhaust memory). Part of core/access/. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "access_private.h"

/* --- secrets and password hashing --- */

int crypto_ready(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* hex of crypto_generichash(secret): what the database keeps of a session id or token. */
void secret_hash_hex(const char *secret, char out[HASH_HEX_LEN + 1])
{
    unsigned char bin[32];
    crypto_generichash(bin, sizeof bin, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_bin2hex(out, HASH_HEX_LEN + 1, bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
}

void random_hex(char out[2 * SECRET_BYTES + 1])
{
    unsigned char bin[SECRET_BYTES];
    randombytes_buf(bin, sizeof bin);
    sodium_bin2hex(out, 2 * SECRET_BYTES + 1, bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
}

/* Argon2id needs pwhash_memlimit bytes per run: at most PWHASH_PARALLEL run
 * at once, so a burst of logins cannot exhaust memory. The gate is process
 * state by nature (it guards this process's memory). */
static pthread_mutex_t pwhash_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pwhash_gate_cv = PTHREAD_COND_INITIALIZER;
static int pwhash_running;

static void pwhash_enter(void)
{
    pthread_mutex_lock(&pwhash_gate_mu);
    while (pwhash_running >= PWHASH_PARALLEL) pthread_cond_wait(&pwhash_gate_cv, &pwhash_gate_mu);
    pwhash_running++;
    pthread_mutex_unlock(&pwhash_gate_mu);
}

static void pwhash_leave(void)
{
    pthread_mutex_lock(&pwhash_gate_mu);
    pwhash_running--;
    pthread_cond_signal(&pwhash_gate_cv);
    pthread_mutex_unlock(&pwhash_gate_mu);
}

/* Cost from the configuration, never under libsodium's floor nor 8 MiB. */
void pwhash_cost(const config *cfg, unsigned long long *ops, size_t *mem)
{
    *ops = cfg && cfg->pwhash_opslimit ? cfg->pwhash_opslimit : 3;
    *mem = cfg && cfg->pwhash_memlimit ? cfg->pwhash_memlimit : (size_t)64 << 20;
    if (*ops < crypto_pwhash_OPSLIMIT_MIN) *ops = crypto_pwhash_OPSLIMIT_MIN;
    if (*mem < ((size_t)8 << 20)) *mem = (size_t)8 << 20;
}

int password_hash(const config *cfg, const char *password, char out[crypto_pwhash_STRBYTES],
                         char *err, size_t errlen)
{
    unsigned long long ops;
    size_t mem;
    pwhash_cost(cfg, &ops, &mem);
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -1; }
    pwhash_enter();
    int rc = crypto_pwhash_str(out, password, strlen(password), ops, mem);
    pwhash_leave();
    if (rc != 0) { copy_bounded(err, errlen, "password hashing ran out of memory"); return -1; }
    return 0;
}

bool password_verify(const char *stored, const char *password)
{
    pwhash_enter();
    bool ok = crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
    pwhash_leave();
    return ok;
}

/* Why a password is refused, or NULL when it is acceptable. */
const char *password_problem(const char *password)
{
    size_t n = password ? strlen(password) : 0;
    if (n < PASSWORD_MIN) return "the password needs at least 8 characters (密码至少 8 位)";
    if (n > PASSWORD_MAX) return "the password is longer than 1024 bytes";
    return NULL;
}
