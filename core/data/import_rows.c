/* import_rows: the checks an imported file goes through in C, row by row,
 * before anything reaches the database (part of the import engine,
 * import_job.h): the header against the entity's columns, each value
 * against its type (codes, dates, timestamps, amounts, VINs, scores, ...),
 * the rules between the columns of a row, duplicate keys within the file,
 * an earlier row the file names (comeback_of), and the caller's store
 * scope. Every problem is kept (the first IMPORT_MAX_PROBLEMS, in line
 * order) with its line, column and a message naming both; a valid row goes
 * to the batch (import_batch.c). What the columns and rules are is read
 * from the entity table (entities.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "import_job.h"

/* --- value checks (pure functions; the unit tests call them through rows) --- */

static bool is_code(const char *s, size_t n)
{
    if (n < 1 || n > 32) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) && ch < 0x80) && ch != '_' && ch != '-') return false;
    }
    return true;
}

static bool is_vin(const char *s, size_t n)
{
    if (n != 17) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z' && ch != 'I' && ch != 'O' && ch != 'Q');
        if (!ok) return false;
    }
    return true;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1000 || m < 1 || m > 12 || d < 1) return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
    return d <= max;
}

static bool is_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    return valid_ymd(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2));
}

/* YYYY-MM-DD HH:MM[:SS] -> "YYYY-MM-DD HH:MM:SS" in out[20]. */
static bool norm_timestamp(const char *s, size_t n, char *out)
{
    if ((n != 16 && n != 19) || !is_date(s, 10) || s[10] != ' ' || s[13] != ':') return false;
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = 0;
    if (n == 19) {
        if (s[16] != ':') return false;
        ss = digits(s + 17, 2);
    }
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return false;
    memcpy(out, s, 16);
    snprintf(out + 16, 4, ":%02d", ss);
    return true;
}

static bool is_month(const char *s, size_t n)
{
    if (n != 7 || s[4] != '-') return false;
    int y = digits(s, 4), m = digits(s + 5, 2);
    return y >= 1000 && m >= 1 && m <= 12;
}

/* A decimal >= 0 with at most 2 decimals and at most int_digits before the point. */
static bool is_decimal(const char *s, size_t n, int int_digits)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 0 || i > (size_t)int_digits) return false;
    if (i == n) return true;
    if (s[i] != '.') return false;
    size_t frac = n - i - 1;
    if (frac < 1 || frac > 2) return false;
    for (size_t k = i + 1; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return false;
    return true;
}

static bool is_score(const char *s, size_t n)
{
    if (!is_decimal(s, n, 2)) return false;
    return strtod(s, NULL) <= 10.0;
}

static bool is_uint32(const char *s, size_t n)
{
    if (n < 1 || n > 10) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= 4294967295ULL;
}

/* 1/0, true/false, Y/N in any case -> 1, 0; -1 otherwise. */
static int parse_bool(const char *s)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "y")) return 1;
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "n")) return 0;
    return -1;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
    return chars;
}

/* (import_job.h) */
const char *value_shown(const char *s, char *buf, size_t buflen)
{
    size_t n = strlen(s);
    size_t max = buflen - 4 < 40 ? buflen - 4 : 40;
    if (n <= max) { snprintf(buf, buflen, "%s", s); return buf; }
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    snprintf(buf, buflen, "%.*s...", (int)cut, s);
    return buf;
}

/* --- problems: the first IMPORT_MAX_PROBLEMS in (line, column) order --- */

static int problem_cmp(long l1, int c1, long l2, int c2)
{
    if (l1 != l2) return l1 < l2 ? -1 : 1;
    return c1 < c2 ? -1 : c1 > c2;
}

void problem_add(problem_list *pl, long line, int column, const char *fmt, ...)
{
    pl->total++;
    if (!pl->items && !(pl->items = calloc(IMPORT_MAX_PROBLEMS, sizeof *pl->items))) return;
    if (pl->n == IMPORT_MAX_PROBLEMS) {
        problem *last = &pl->items[pl->n - 1];
        if (problem_cmp(line, column, last->line, last->column) >= 0) return;
        free(last->message);
        pl->n--;
    }
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *copy = strdup(msg);
    if (!copy) return;
    int pos = pl->n;
    while (pos > 0 && problem_cmp(line, column, pl->items[pos - 1].line, pl->items[pos - 1].column) < 0) pos--;
    memmove(&pl->items[pos + 1], &pl->items[pos], (size_t)(pl->n - pos) * sizeof *pl->items);
    pl->items[pos] = (problem){ line, column, copy };
    pl->n++;
}

void problem_list_free(problem_list *pl)
{
    for (int i = 0; i < pl->n; i++) free(pl->items[i].message);
    free(pl->items);
    *pl = (problem_list){ 0 };
}

cJSON *problem_list_json(const problem_list *pl)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return NULL;
    for (int i = 0; i < pl->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddNumberToObject(o, "line", (double)pl->items[i].line);
        cJSON_AddNumberToObject(o, "column", pl->items[i].column);
        cJSON_AddStringToObject(o, "message", pl->items[i].message);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* --- the header --- */

static void read_header(import_job *j, const csv_record *rec)
{
    const entity_def *e = j->e;
    j->have_header = true;
    j->nfile_cols = rec->nfields;
    for (int c = 0; c < e->ncols; c++) j->col_to_file[c] = 0;
    for (int f = 0; f < rec->nfields; f++) {
        j->file_to_col[f] = -1;
        const char *name = rec->fields[f];
        int col = entity_col(e, name);
        char v[64];
        if (col < 0) {
            int near = -1;
            for (int c = 0; c < e->ncols; c++)
                if (strcasecmp(e->cols[c].name, name) == 0) near = c;
            if (near >= 0)
                problem_add(&j->problems, rec->line, f + 1, "unknown column '%s' (column names are lower case: %s)",
                            value_shown(name, v, sizeof v), e->cols[near].name);
            else if (name[0] == '\0')
                problem_add(&j->problems, rec->line, f + 1, "empty column name in the header");
            else
                problem_add(&j->problems, rec->line, f + 1, "unknown column '%s' for %s", value_shown(name, v, sizeof v), e->name);
            j->header_bad = true;
            continue;
        }
        if (j->col_to_file[col]) {
            problem_add(&j->problems, rec->line, f + 1, "column '%s' appears twice in the header (also column %d)",
                        name, j->col_to_file[col]);
            j->header_bad = true;
            continue;
        }
        j->col_to_file[col] = f + 1;
        j->file_to_col[f] = col;
    }
    for (int c = 0; c < e->ncols; c++) {
        if (e->cols[c].required && !j->col_to_file[c]) {
            problem_add(&j->problems, rec->line, 1, "missing required column '%s'", e->cols[c].name);
            j->header_bad = true;
        }
    }
}

/* --- one row --- */

/* Copies n bytes to the batch arena, NUL-terminated. */
static const char *arena_put(import_job *j, const char *s, size_t n)
{
    if (j->arena_used + n + 1 > j->arena_cap) return NULL;
    char *p = j->arena + j->arena_used;
    memcpy(p, s, n);
    p[n] = '\0';
    j->arena_used += n + 1;
    return p;
}

static const char *enum_list(const char *const *values, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; values[i]; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", values[i]);
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return buf;
}

/* Checks one value and puts its normalised form (copied to the batch arena)
 * or DB_NULL in *out; false after adding a problem. */
static bool check_value(import_job *j, long line, int fcol, const col_def *cd, const char *s, size_t n, db_val *out)
{
    char v[64], list[200], ts[20];
    const char *norm = s;
    size_t normlen = n;
    if (n == 0) {
        if (cd->required) {
            problem_add(&j->problems, line, fcol, "%s: a value is required", cd->name);
            return false;
        }
        if (cd->if_empty) {
            norm = cd->if_empty;
            normlen = strlen(norm);
        } else {
            *out = DB_NULL;
            return true;
        }
    } else {
        switch (cd->type) {
        case T_CODE:
            if (!is_code(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a valid code (1 to 32 of A-Z a-z 0-9 _ -, no spaces)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_TEXT:
            if (utf8_chars(s, n) > (size_t)cd->maxlen) {
                problem_add(&j->problems, line, fcol, "%s: longer than %d characters", cd->name, cd->maxlen);
                return false;
            }
            break;
        case T_DATE:
            if (!is_date(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a date (YYYY-MM-DD)", cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_TS:
            if (!norm_timestamp(s, n, ts)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a timestamp (YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            norm = ts;
            normlen = 19;
            break;
        case T_MONEY:
        case T_QTY:
            if (!is_decimal(s, n, cd->type == T_MONEY ? 12 : 10)) {
                problem_add(&j->problems, line, fcol,
                            "%s: '%s' is not a valid amount (a number >= 0 with at most 2 decimals, '.' as the decimal point, "
                            "no thousands separators)", cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_UINT:
            if (!is_uint32(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a whole number >= 0", cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_BOOL: {
            int b = parse_bool(s);
            if (b < 0) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a boolean (1/0, true/false, Y/N)", cd->name,
                            value_shown(s, v, sizeof v));
                return false;
            }
            norm = b ? "1" : "0";
            normlen = 1;
            break;
        }
        case T_ENUM: {
            bool ok = false;
            for (int i = 0; cd->values[i] && !ok; i++) ok = strcmp(cd->values[i], s) == 0;
            if (!ok) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not one of: %s", cd->name, value_shown(s, v, sizeof v),
                            enum_list(cd->values, list, sizeof list));
                return false;
            }
            break;
        }
        case T_PHONE: {
            bool ok = n <= 20;
            for (size_t i = 0; ok && i < n; i++) ok = (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == ' ';
            if (!ok) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a phone number (at most 20 of 0-9 + - and spaces)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        }
        case T_VIN:
            if (!is_vin(s, n)) {
                problem_add(&j->problems, line, fcol,
                            "%s: '%s' is not a VIN (17 characters of A-H J-N P R-Z 0-9, upper case; no I, O or Q)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_SCORE:
            if (!is_score(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a score from 0 to 10 (at most 2 decimals)", cd->name,
                            value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_MONTH:
            if (!is_month(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a month (YYYY-MM)", cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_KPI: {
            char id[65];
            int known = -1;
            if (n < sizeof id) {
                memcpy(id, s, n);
                id[n] = '\0';
                known = j->kpi_check ? j->kpi_check(j->kpi_ud, id) : -1;
            }
            if (known < 0) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a KPI id of the catalogue (GET /api/v1/kpis)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            if (known == 0) {
                problem_add(&j->problems, line, fcol,
                            "%s: '%s' takes no targets (only KPIs marked \"budget\": true in the catalogue do)",
                            cd->name, value_shown(s, v, sizeof v));
                return false;
            }
            break;
        }
        }
    }
    const char *p = arena_put(j, norm, normlen);
    if (!p) {
        job_fatal(j, 500, "batch buffer exhausted");
        return false;
    }
    *out = DB_STRN(p, normlen);
    return true;
}

static const char *val_str(const db_val *v) { return v->type == DB_T_STR ? v->s : NULL; }

/* The rules between the columns of one row (e->rules). */
static bool check_row_rules(import_job *j, long line, const db_val *row)
{
    const entity_def *e = j->e;
    bool ok = true;
    for (int i = 0; i < e->nrules; i++) {
        const row_rule *r = &e->rules[i];
        const char *v = val_str(&row[r->col]), *other = val_str(&row[r->other]);
        const char *name = e->cols[r->col].name, *other_name = e->cols[r->other].name;
        int fcol = j->col_to_file[r->col];
        switch (r->kind) {
        case RULE_NOT_BEFORE:
            if (!v || !other || strcmp(v, other) >= 0) continue;
            problem_add(&j->problems, line, fcol, "%s: %s is before %s %s", name, v, other_name, other);
            break;
        case RULE_AFTER:
            if (!v || !other || strcmp(v, other) > 0) continue;
            problem_add(&j->problems, line, fcol, "%s: %s is not after %s %s", name, v, other_name, other);
            break;
        case RULE_REQUIRED_WHEN:
            if (v || !other || strcmp(other, r->value) != 0) continue;
            problem_add(&j->problems, line, fcol ? fcol : j->col_to_file[r->other], "%s: required when %s is %s", name,
                        other_name, r->value);
            break;
        case RULE_TRUE_NEEDS_TRUE:
            if (!v || v[0] != '1' || !other || other[0] != '0') continue;
            problem_add(&j->problems, line, fcol, "%s: %s", name, r->message);
            break;
        }
        ok = false;
    }
    return ok;
}

/* Builds the natural key "a\x1fb\x1fc" of a row. */
static size_t row_key(const entity_def *e, const db_val *row, char *buf, size_t len)
{
    size_t pos = 0;
    for (int k = 0; k < e->nkey; k++) {
        const char *v = row[k].type == DB_T_STR ? row[k].s : "";
        size_t n = strlen(v);
        if (pos + (k ? 1 : 0) + n >= len) return len;
        if (k) buf[pos++] = '\x1f';
        memcpy(buf + pos, v, n);
        pos += n;
    }
    buf[pos] = '\0';
    return pos;
}

static const char *row_key_text(const entity_def *e, const db_val *row, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int k = 0; k < e->nkey; k++) {
        int w = snprintf(buf + pos, len - pos, "%s%s=%s", k ? ", " : "", e->cols[k].name, row[k].type == DB_T_STR ? row[k].s : "");
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return buf;
}

static void read_row(import_job *j, const csv_record *rec)
{
    const entity_def *e = j->e;
    j->rows++;
    if (rec->nfields != j->nfile_cols) {
        problem_add(&j->problems, rec->line, (rec->nfields < j->nfile_cols ? rec->nfields : j->nfile_cols) + 1,
                    "this row has %d fields but the header has %d", rec->nfields, j->nfile_cols);
        return;
    }
    if (j->header_bad) return;
    if (j->arena_cap - j->arena_used < CSV_MAX_RECORD + 8u * MAX_COLS + 64) flush_batch(j);
    if (j->fatal) return;
    size_t arena_mark = j->arena_used;
    db_val *row = &j->vals[(size_t)j->nbatch * (size_t)(1 + e->ncols)];
    row[0] = DB_INT(rec->line);
    db_val *cols = row + 1;
    bool ok = true;
    for (int c = 0; c < e->ncols; c++) {
        int f = j->col_to_file[c];
        const char *s = f ? rec->fields[f - 1] : "";
        size_t n = f ? rec->lens[f - 1] : 0;
        if (!check_value(j, rec->line, f ? f : 1, &e->cols[c], s, n, &cols[c])) ok = false;
        if (j->fatal) return;
    }
    if (ok) ok = check_row_rules(j, rec->line, cols);
    /* scope: a row of a store the caller may not import */
    if (e->has_store && cols[0].type == DB_T_STR && j->who && !j->who->all_stores &&
        !principal_sees_store(j->who, cols[0].s)) {
        char v[64];
        problem_add(&j->scope_problems, rec->line, j->col_to_file[0],
                    "store_code: store '%s' is outside the stores this token may import", value_shown(cols[0].s, v, sizeof v));
        ok = false;
    }
    /* the same key twice in the file (checked whenever the key itself is valid) */
    bool key_valid = true;
    for (int k = 0; k < e->nkey; k++)
        if (cols[k].type != DB_T_STR) key_valid = false;
    if (key_valid) {
        char key[200];
        size_t keylen = row_key(e, cols, key, sizeof key);
        char payload[48] = "";
        if (ok && e->earlier)
            snprintf(payload, sizeof payload, "%s\x1f%s", cols[e->earlier->vin_col].s, cols[e->earlier->at_col].s);
        bool oom = false;
        key_entry *seen = key_add(&j->keys, key, keylen, payload, rec->line, &oom);
        if (oom) { job_fatal(j, 500, "out of memory"); return; }
        if (seen) {
            char kt[200];
            problem_add(&j->problems, rec->line, j->col_to_file[0], "duplicate key (%s): the same key is on line %ld",
                        row_key_text(e, cols, kt, sizeof kt), seen->line);
            ok = false;
        }
    }
    if (!ok) { j->arena_used = arena_mark; return; }
    /* an earlier row (comeback_of) named by a row of this file: settled here */
    bool earlier_ok = false;
    const earlier_ref *er = e->earlier;
    if (er && cols[er->col].type == DB_T_STR) {
        char ck[80];
        int cn = snprintf(ck, sizeof ck, "%s\x1f%s", cols[0].s, cols[er->col].s);
        key_entry *orig = key_find(&j->keys, ck, (size_t)cn, key_hash(ck, (size_t)cn));
        if (orig && orig->line != rec->line) {
            const char *pl = key_payload(orig);      /* vin \x1f time ("" when that row was invalid) */
            if (strlen(pl) < 19 || strncmp(pl, cols[er->vin_col].s, 17) != 0 || strcmp(pl + 18, cols[er->at_col].s) >= 0) {
                problem_add(&j->problems, rec->line, j->col_to_file[er->col],
                            "%s '%s' is not an earlier repair order of store %s for the same vehicle (see line %ld)",
                            e->cols[er->col].name, cols[er->col].s, cols[0].s, orig->line);
                j->arena_used = arena_mark;
                return;
            }
            earlier_ok = true;
        }
    }
    if (e->vin_col > 0) touch_vin(j, cols[e->vin_col].s);
    /* rows without dates of their own touch their store's whole range (an
     * RO's lines: narrowed to their RO's days at the end of the file) */
    if (e->has_store && (e->dates == DATES_NONE || e->dates == DATES_OF_ITS_RO)) touch_store(j, cols[0].s, NULL, NULL);
    j->batch_lines[j->nbatch] = rec->line;
    j->batch_earlier_ok[j->nbatch] = earlier_ok;
    j->nbatch++;
    if (j->nbatch == BATCH_ROWS || j->arena_used > BATCH_ARENA) flush_batch(j);
}

int job_on_record(void *ud, const csv_record *rec)
{
    import_job *j = ud;
    if (!j->have_header) read_header(j, rec);
    else read_row(j, rec);
    return j->fatal ? 1 : 0;
}

