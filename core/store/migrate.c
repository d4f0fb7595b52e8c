/* migrate: apply schemas/NNN_name.sql in order, each file once, recorded in
 * schema_migrations (version, name, applied_at).
 *
 * A file is split into statements at each ';' that ends a line (outside
 * quotes and comments) and the statements run one by one. A file counts as
 * applied, and is recorded, only once all its statements ran. MariaDB does not
 * roll back DDL, so a file that fails half-way keeps its first statements:
 * the next run starts that file again from its first statement. Write each
 * migration so that running it again is harmless (CREATE TABLE IF NOT EXISTS,
 * ADD COLUMN IF NOT EXISTS, CREATE INDEX IF NOT EXISTS, INSERT IGNORE ...) or
 * as a single statement. A stored routine or trigger whose body has ';' at
 * line ends cannot be split this way: keep such a body's inner ';' mid-line.
 *
 * Two processes migrating the same database at once take turns through
 * GET_LOCK('fourscore_migrate').
 */
#include "migrate.h"
#include "config.h"
#include "err.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#define MIGRATE_FILE_MAX    (16u * 1024 * 1024)   /* a migration file larger than this is refused */
#define MIGRATE_MAX_FILES   1000
#define MIGRATE_LOCK_WAIT_S 120

const char *migrate_schema_dir(void)
{
    return config_schema_dir();
}

/* --- splitting a file into statements --- */

/* Whether sql[i..] starts a "-- " comment (MariaDB needs a space after --). */
static bool dash_comment_at(const char *s)
{
    return s[0] == '-' && s[1] == '-' && (s[2] == ' ' || s[2] == '\t' || s[2] == '\n' || s[2] == '\r' || s[2] == '\0');
}

/* Whether only blanks, then an optional -- or # comment, remain on the line. */
static bool rest_of_line_empty(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    return *s == '\n' || *s == '\0' || dash_comment_at(s) || *s == '#';
}

/* Whether text holds something besides blanks and comments. */
static bool has_code(const char *s)
{
    while (*s) {
        if (isspace((unsigned char)*s)) s++;
        else if (dash_comment_at(s) || *s == '#') { while (*s && *s != '\n') s++; }
        else if (s[0] == '/' && s[1] == '*' && s[2] != '!') {
            const char *end = strstr(s + 2, "*/");
            if (!end) return false;
            s = end + 2;
        } else return true;
    }
    return false;
}

int migrate_split(const char *sql, migrate_stmt_fn fn, void *ctx)
{
    size_t len = strlen(sql);
    char *buf = malloc(len + 1);
    if (!buf) return -1;
    size_t start = 0;            /* of the current statement */
    int line = 1, start_line = 1;
    enum { CODE, SQUOTE, DQUOTE, BACKTICK, LINE_COMMENT, BLOCK_COMMENT } st = CODE;
    int rc = 0;
    for (size_t i = 0; i <= len && rc == 0; i++) {
        char ch = sql[i];
        bool end_here = false;
        if (ch == '\0') {
            end_here = true;
        } else if (st == CODE) {
            if (ch == '\'') st = SQUOTE;
            else if (ch == '"') st = DQUOTE;
            else if (ch == '`') st = BACKTICK;
            else if (ch == '#' || dash_comment_at(sql + i)) st = LINE_COMMENT;
            else if (ch == '/' && sql[i + 1] == '*') { st = BLOCK_COMMENT; i++; }
            else if (ch == ';' && rest_of_line_empty(sql + i + 1)) end_here = true;
        } else if (st == SQUOTE || st == DQUOTE) {
            char q = st == SQUOTE ? '\'' : '"';
            if (ch == '\\' && sql[i + 1]) {
                i++;
                if (sql[i] == '\n') line++;
            } else if (ch == q && sql[i + 1] == q) i++;       /* '' inside '...' */
            else if (ch == q) st = CODE;
        } else if (st == BACKTICK) {
            if (ch == '`' && sql[i + 1] == '`') i++;
            else if (ch == '`') st = CODE;
        } else if (st == LINE_COMMENT) {
            if (ch == '\n') st = CODE;
        } else if (st == BLOCK_COMMENT) {
            if (ch == '*' && sql[i + 1] == '/') { st = CODE; i++; }
        }
        if (ch == '\n') line++;
        if (!end_here) continue;
        size_t n = i - start;
        memcpy(buf, sql + start, n);
        buf[n] = '\0';
        if (has_code(buf)) {
            /* Report the line of the statement's first code, not of the blank
             * lines and comments before it. */
            int first_line = start_line;
            const char *p = buf;
            while (*p) {
                if (*p == '\n') { first_line++; p++; }
                else if (isspace((unsigned char)*p)) p++;
                else if (dash_comment_at(p) || *p == '#') { while (*p && *p != '\n') p++; }
                else break;
            }
            rc = fn(ctx, buf, first_line);
        }
        start = i + 1;
        start_line = line;
    }
    free(buf);
    return rc;
}

/* --- the migration files --- */

typedef struct migration {
    unsigned version;
    char name[256];
} migration;

static int by_version(const void *a, const void *b)
{
    const migration *x = a, *y = b;
    return x->version < y->version ? -1 : x->version > y->version;
}

/* NNN_name.sql: digits, '_', a name of [A-Za-z0-9_.-], ".sql". */
static bool migration_name(const char *name, unsigned *version)
{
    size_t n = strlen(name), digits = strspn(name, "0123456789");
    if (digits == 0 || digits > 9 || name[digits] != '_' || n < digits + 6) return false;
    if (strcmp(name + n - 4, ".sql") != 0) return false;
    for (size_t i = digits + 1; i < n - 4; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' && name[i] != '.') return false;
    *version = (unsigned)strtoul(name, NULL, 10);
    return true;
}

/* The migration files of dir, sorted by version. */
static int list_migrations(const char *dir, migration **out, int *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        set_err(err, errlen, "cannot open the schema dir %s: %s (set FOURSCORE_SCHEMA_DIR)", dir, strerror(errno));
        return -1;
    }
    migration *list = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned version;
        if (!migration_name(e->d_name, &version) || strlen(e->d_name) >= sizeof list->name) continue;
        if (n == MIGRATE_MAX_FILES) {
            set_err(err, errlen, "more than %d migration files in %s", MIGRATE_MAX_FILES, dir);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            migration *grown = realloc(list, (size_t)cap * sizeof *grown);
            if (!grown) {
                set_err(err, errlen, "out of memory");
                goto fail;
            }
            list = grown;
        }
        list[n].version = version;
        snprintf(list[n].name, sizeof list[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    d = NULL;
    if (n) qsort(list, (size_t)n, sizeof *list, by_version);
    for (int i = 1; i < n; i++)
        if (list[i].version == list[i - 1].version) {
            set_err(err, errlen, "two migrations have the number %u: %s and %s", list[i].version,
                    list[i - 1].name, list[i].name);
            goto fail;
        }
    *out = list;
    *count = n;
    return 0;
fail:
    if (d) closedir(d);
    free(list);
    return -1;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size < 0 || (unsigned long long)st.st_size > MIGRATE_FILE_MAX) {
        set_err(err, errlen, "%s: too large or unreadable (at most %u bytes)", path, MIGRATE_FILE_MAX);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    bool bad = !buf || ferror(f) || got != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        set_err(err, errlen, "cannot read %s", path);
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    if (strlen(buf) != got) {
        set_err(err, errlen, "%s holds a NUL byte: not an SQL text", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* --- the record of applied migrations --- */

static const char SQL_CREATE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
static const char SQL_APPLIED[] = "SELECT version FROM schema_migrations ORDER BY version";
static const char SQL_RECORD[] = "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
static const char SQL_LOCK[] = "SELECT GET_LOCK('fourscore_migrate', ?)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('fourscore_migrate')";

/* Mark in pending[] (parallel to list) the migrations not yet recorded. */
static int find_pending(db_conn *c, const migration *list, int n, bool *pending, int *npending,
                        char *err, size_t errlen)
{
    char dberr[512];
    if (db_exec(c, SQL_CREATE_TABLE, NULL, 0, NULL, dberr, sizeof dberr)) {
        set_err(err, errlen, "creating schema_migrations: %s", dberr);
        return -1;
    }
    db_result *r;
    if (db_query(c, SQL_APPLIED, NULL, 0, &r, dberr, sizeof dberr)) {
        set_err(err, errlen, "reading schema_migrations: %s", dberr);
        return -1;
    }
    *npending = 0;
    for (int i = 0; i < n; i++) {
        pending[i] = true;
        for (int row = 0; row < r->nrows; row++)
            if (db_cell_int(r, row, 0) == (long long)list[i].version) pending[i] = false;
        *npending += pending[i];
    }
    db_result_free(r);
    return 0;
}

int migrate_pending(db_conn *c, const char *schema_dir, char *err, size_t errlen)
{
    migration *list;
    int n, npending = -1;
    if (list_migrations(schema_dir, &list, &n, err, errlen)) return -1;
    bool *pending = calloc((size_t)n + 1, sizeof *pending);
    if (!pending) set_err(err, errlen, "out of memory");
    else if (find_pending(c, list, n, pending, &npending, err, errlen)) npending = -1;
    free(pending);
    free(list);
    return npending;
}

/* --- applying --- */

typedef struct apply_ctx {
    db_conn *c;
    const char *file;
    char *err;
    size_t errlen;
} apply_ctx;

static int apply_statement(void *vctx, const char *stmt, int line)
{
    apply_ctx *ctx = vctx;
    char dberr[1024];
    if (db_exec_text(ctx->c, stmt, dberr, sizeof dberr) == 0) return 0;
    set_err(ctx->err, ctx->errlen, "%s, line %d: %s", ctx->file, line, dberr);
    return -1;
}

int migrate_run(db_conn *c, const char *schema_dir, FILE *progress, int *applied, int *reshaped, char *err,
                size_t errlen)
{
    if (applied) *applied = 0;
    if (reshaped) *reshaped = 0;
    migration *list;
    int n;
    if (list_migrations(schema_dir, &list, &n, err, errlen)) return -1;
    char dberr[512];
    db_result *r = NULL;
    db_val wait = DB_INT(MIGRATE_LOCK_WAIT_S);
    if (db_query(c, SQL_LOCK, &wait, 1, &r, dberr, sizeof dberr) || r->nrows != 1 || db_cell_int(r, 0, 0) != 1) {
        if (r) set_err(err, errlen, "another process is migrating this database (waited %d s)", MIGRATE_LOCK_WAIT_S);
        else set_err(err, errlen, "taking the migration lock: %s", dberr);
        db_result_free(r);
        free(list);
        return -1;
    }
    db_result_free(r);
    r = NULL;

    int rc = -1;
    bool *pending = calloc((size_t)n + 1, sizeof *pending);
    int npending = 0;
    if (!pending) {
        set_err(err, errlen, "out of memory");
        goto done;
    }
    if (find_pending(c, list, n, pending, &npending, err, errlen)) goto done;
    for (int i = 0; i < n; i++) {
        if (!pending[i]) continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", schema_dir, list[i].name) >= (int)sizeof path) {
            set_err(err, errlen, "schema dir path too long: %s", schema_dir);
            goto done;
        }
        if (progress) {
            fprintf(progress, "applying %s ... ", list[i].name);
            fflush(progress);
        }
        char *sql = read_file(path, err, errlen);
        if (!sql) {
            if (progress) fprintf(progress, "failed\n");
            goto done;
        }
        bool derived_unchanged = strncmp(sql, MIGRATE_DERIVED_UNCHANGED, strlen(MIGRATE_DERIVED_UNCHANGED)) == 0;
        apply_ctx ctx = { .c = c, .file = list[i].name, .err = err, .errlen = errlen };
        if (err && errlen) err[0] = '\0';
        int failed = migrate_split(sql, apply_statement, &ctx);
        free(sql);
        if (failed) {
            if (err && errlen && !err[0]) set_err(err, errlen, "%s: out of memory", list[i].name);
            if (progress) fprintf(progress, "failed\n");
            goto done;
        }
        db_val rec[2] = { DB_INT(list[i].version), DB_STR(list[i].name) };
        if (db_exec(c, SQL_RECORD, rec, 2, NULL, dberr, sizeof dberr)) {
            set_err(err, errlen, "%s ran but recording it in schema_migrations failed: %s", list[i].name, dberr);
            if (progress) fprintf(progress, "failed\n");
            goto done;
        }
        if (progress) fprintf(progress, "ok\n");
        if (applied) (*applied)++;
        if (reshaped && !derived_unchanged) (*reshaped)++;
    }
    rc = 0;
done:
    if (db_query(c, SQL_UNLOCK, NULL, 0, &r, dberr, sizeof dberr) == 0) db_result_free(r);
    free(pending);
    free(list);
    return rc;
}
