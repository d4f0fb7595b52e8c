/* static: the web root's files over HTTP (see static.h). Resolution goes
 * through realpath() and a prefix check against the root's own real path,
 * then opens with O_NOFOLLOW, so neither "..", nor an encoded separator, nor
 * a symlink leading out of the root can reach another file. Small files are
 * answered from memory: one cache entry per path holds the bytes (and those
 * of a fresher .gz sibling), shared by in-flight responses through a
 * reference count; an entry is re-checked against the file at most once a
 * second. Bigger files go out straight from their descriptor. */
#include "static.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "log.h"
#include "clock.h"

#define CACHE_FILE_MAX   (2u * 1024u * 1024u)     /* bytes: bigger files are not kept (the chart library is ~0.7 MB) */
#define CACHE_TOTAL_MAX  (64u * 1024u * 1024u)   /* bytes kept in all */
#define CACHE_BUCKETS    1024u
#define CACHE_RECHECK_MS 1000.0                  /* how stale an entry may get */

/* --- path decoding --- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int url_path_decode(const char *raw, char *out, size_t outlen, const char **why)
{
    static const char *const bad_start = "the path must start with '/'";
    *why = NULL;
    if (!raw || raw[0] != '/') { *why = bad_start; return -1; }
    if (outlen < 2) { *why = "the path is too long"; return -1; }
    size_t o = 0;
    size_t seg_start = 0;     /* index in out where the current segment begins */
    for (const char *p = raw; ; p++) {
        char c = *p;
        bool end = (c == '\0' || c == '?' || c == '#');
        if (end || c == '/') {
            /* the segment out[seg_start .. o) is complete */
            size_t seglen = o - seg_start;
            if ((seglen == 1 && out[seg_start] == '.') ||
                (seglen == 2 && out[seg_start] == '.' && out[seg_start + 1] == '.')) {
                *why = "the path may not contain '.' or '..' segments";
                return -1;
            }
            if (end) break;
            if (o + 1 >= outlen) { *why = "the path is too long"; return -1; }
            out[o++] = '/';
            seg_start = o;
            continue;
        }
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0) { *why = "the path has a malformed %-escape"; return -1; }
            c = (char)(hi * 16 + lo);
            p += 2;
            if (c == '/' || c == '\\') { *why = "the path may not contain an encoded '/' or '\\'"; return -1; }
        }
        if (c == '\\') { *why = "the path may not contain '\\'"; return -1; }
        if ((unsigned char)c < 0x20 || c == 0x7f) { *why = "the path may not contain NUL or control characters"; return -1; }
        if (o + 1 >= outlen) { *why = "the path is too long"; return -1; }
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* --- content types and cache policy --- */

static const struct { const char *ext, *type; } content_types[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "json", "application/json; charset=utf-8" },
    { "map", "application/json; charset=utf-8" },
    { "webmanifest", "application/manifest+json" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "gif", "image/gif" },
    { "webp", "image/webp" },
    { "ico", "image/x-icon" },
    { "woff2", "font/woff2" },
    { "woff", "font/woff" },
    { "ttf", "font/ttf" },
    { "otf", "font/otf" },
    { "txt", "text/plain; charset=utf-8" },
    { "md", "text/plain; charset=utf-8" },
    { "lua", "text/plain; charset=utf-8" },
    { "csv", "text/csv; charset=utf-8" },
    { "xml", "application/xml" },
    { "pdf", "application/pdf" },
    { "wasm", "application/wasm" },
    { "gz", "application/gzip" },
    { "zip", "application/zip" },
    { "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
};

const char *static_content_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) {
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
            if (strcasecmp(dot + 1, content_types[i].ext) == 0) return content_types[i].type;
    }
    return "application/octet-stream";
}

bool static_name_is_hashed(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *ext = strrchr(base, '.');
    if (!ext || ext == base) return false;
    /* a part between separators, before the extension, of >= 8 hex digits */
    const char *p = base;
    while (p < ext) {
        size_t n = strcspn(p, ".-_");
        if (p + n > ext) n = (size_t)(ext - p);
        if (n >= 8 && n <= 64 && p != base) {
            size_t hex = 0, digits = 0;
            for (size_t i = 0; i < n; i++) {
                if (hexval(p[i]) < 0 || (p[i] >= 'A' && p[i] <= 'F')) break;
                hex++;
                if (p[i] >= '0' && p[i] <= '9') digits++;
            }
            if (hex == n && digits > 0) return true;
        }
        p += n + 1;
    }
    return false;
}

/* --- the root and resolution --- */

typedef struct cache_entry cache_entry;

struct static_root {
    char real[PATH_MAX];       /* the root's resolved absolute path */
    size_t real_len;
    pthread_rwlock_t lock;     /* guards buckets and total */
    cache_entry *buckets[CACHE_BUCKETS];
    size_t total;              /* bytes held by cached entries */
};

static_root *static_root_open(const char *web_root, char *err, size_t errlen)
{
    static_root *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (!realpath(web_root, s->real)) {
        snprintf(err, errlen, "web root %s: %s", web_root, strerror(errno));
        free(s);
        return NULL;
    }
    struct stat st;
    if (stat(s->real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "web root %s is not a directory", web_root);
        free(s);
        return NULL;
    }
    s->real_len = strlen(s->real);
    if (s->real_len == 1) s->real_len = 0;   /* "/" as root: every path is inside */
    if (pthread_rwlock_init(&s->lock, NULL) != 0) {
        snprintf(err, errlen, "cannot create the file cache lock");
        free(s);
        return NULL;
    }
    return s;
}

/* Any segment that starts with '.' (.git, .env, .htpasswd) is not served. */
static bool has_hidden_segment(const char *path)
{
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
        if (p[1] == '.') return true;
    return false;
}

enum static_status static_resolve(static_root *s, const char *path, int *fd, struct stat *st,
                                  char *real, size_t reallen)
{
    *fd = -1;
    if (path[0] != '/' || has_hidden_segment(path)) return STATIC_NOT_FOUND;
    char full[PATH_MAX + 16];
    size_t plen = strlen(path);
    bool want_index = path[plen - 1] == '/';
    int n = snprintf(full, sizeof full, "%s%s%s", s->real, path, want_index ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof full) return STATIC_NOT_FOUND;

    char resolved[PATH_MAX];
    if (!realpath(full, resolved)) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP)
            return STATIC_NOT_FOUND;
        return STATIC_ERROR;
    }
    if (strncmp(resolved, s->real, s->real_len) != 0 ||
        (resolved[s->real_len] != '/' && resolved[s->real_len] != '\0'))
        return STATIC_OUTSIDE;

    /* resolved holds no symlink; O_NOFOLLOW refuses one swapped in since */
    int f = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (f < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) return STATIC_NOT_FOUND;
        return STATIC_ERROR;
    }
    if (fstat(f, st) != 0) {
        int e = errno;
        close(f);
        errno = e;
        return STATIC_ERROR;
    }
    if (S_ISDIR(st->st_mode)) {
        close(f);
        return want_index ? STATIC_NOT_FOUND : STATIC_IS_DIR;
    }
    if (!S_ISREG(st->st_mode)) {
        close(f);
        return STATIC_NOT_FOUND;
    }
    /* back to blocking reads for the file's contents */
    int flags = fcntl(f, F_GETFL);
    if (flags >= 0) (void)fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
    if (real) snprintf(real, reallen, "%s", resolved);
    *fd = f;
    return STATIC_OK;
}

/* --- one file variant (plain or .gz): its bytes or its descriptor, and headers --- */

typedef struct file_variant {
    bool present;
    char *bytes;               /* cached entries: the whole file */
    size_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    char etag[64];
    char last_modified[40];
} file_variant;

struct cache_entry {
    cache_entry *next;         /* bucket chain */
    char *path;                /* decoded request path, the key */
    atomic_int refs;           /* the cache's own + one per response in flight */
    _Atomic double checked_ms; /* when the file was last compared with the entry */
    bool cached;               /* in the table (counts in total) */
    const char *content_type;
    const char *cache_control;
    file_variant plain, gz;
};

static void variant_describe(file_variant *v, const struct stat *st, bool gz)
{
    v->present = true;
    v->size = (size_t)st->st_size;
    v->dev = st->st_dev;
    v->ino = st->st_ino;
    v->mtime = st->st_mtim;
    unsigned long long ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec;
    snprintf(v->etag, sizeof v->etag, "\"%llx-%llx%s\"", (unsigned long long)st->st_size, ns, gz ? "-gz" : "");
    struct tm tm;
    gmtime_r(&st->st_mtim.tv_sec, &tm);
    strftime(v->last_modified, sizeof v->last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool same_file(const file_variant *v, const struct stat *st)
{
    return v->present && v->dev == st->st_dev && v->ino == st->st_ino &&
           v->size == (size_t)st->st_size &&
           v->mtime.tv_sec == st->st_mtim.tv_sec && v->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Read exactly len bytes from fd; 0 or -1. */
static int read_all(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

static void entry_release(cache_entry *e)
{
    if (!e) return;
    if (atomic_fetch_sub(&e->refs, 1) != 1) return;
    free(e->plain.bytes);
    free(e->gz.bytes);
    free(e->path);
    free(e);
}

static void entry_release_cb(void *cls) { entry_release(cls); }

/* --- the cache table --- */

static unsigned path_hash(const char *p)
{
    unsigned h = 2166136261u;
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h % CACHE_BUCKETS;
}

/* The entry for path with a reference taken, or NULL. */
static cache_entry *cache_get(static_root *s, const char *path)
{
    cache_entry *found = NULL;
    pthread_rwlock_rdlock(&s->lock);
    for (cache_entry *e = s->buckets[path_hash(path)]; e; e = e->next)
        if (strcmp(e->path, path) == 0) {
            atomic_fetch_add(&e->refs, 1);
            found = e;
            break;
        }
    pthread_rwlock_unlock(&s->lock);
    return found;
}

static size_t entry_bytes(const cache_entry *e)
{
    return e->plain.size + (e->gz.present ? e->gz.size : 0);
}

/* Put e in the table in place of any entry for the same path. Returns false
 * when the cache is full (e stays private to the caller). */
static bool cache_put(static_root *s, cache_entry *e)
{
    bool stored = false;
    cache_entry *old = NULL;
    pthread_rwlock_wrlock(&s->lock);
    cache_entry **pp = &s->buckets[path_hash(e->path)];
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->path, e->path) == 0) {
            old = *pp;
            *pp = old->next;
            s->total -= entry_bytes(old);
            old->cached = false;
            break;
        }
    if (s->total + entry_bytes(e) <= CACHE_TOTAL_MAX) {
        e->next = s->buckets[path_hash(e->path)];
        s->buckets[path_hash(e->path)] = e;
        s->total += entry_bytes(e);
        e->cached = true;
        atomic_fetch_add(&e->refs, 1);       /* the table's reference */
        stored = true;
    }
    pthread_rwlock_unlock(&s->lock);
    entry_release(old);
    return stored;
}

/* Take e out of the table (the file is gone or changed); in-flight
 * responses keep their own references. */
static void cache_drop(static_root *s, cache_entry *e)
{
    bool dropped = false;
    pthread_rwlock_wrlock(&s->lock);
    for (cache_entry **pp = &s->buckets[path_hash(e->path)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            s->total -= entry_bytes(e);
            e->cached = false;
            dropped = true;
            break;
        }
    pthread_rwlock_unlock(&s->lock);
    if (dropped) entry_release(e);        /* the table's reference */
}

void static_root_close(static_root *s)
{
    if (!s) return;
    for (unsigned i = 0; i < CACHE_BUCKETS; i++) {
        cache_entry *e = s->buckets[i];
        while (e) {
            cache_entry *next = e->next;
            entry_release(e);
            e = next;
        }
    }
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* --- answering --- */


/* Does If-None-Match name etag (or "*")? */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm) return false;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '*') return true;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        size_t n = strcspn(p, ", ");
        if (n == elen && strncmp(p, etag, n) == 0) return true;
        p += n;
    }
    return false;
}

static void add_file_headers(struct MHD_Response *resp, const cache_entry *e, const file_variant *v, bool gz)
{
    MHD_add_response_header(resp, "Content-Type", e->content_type);
    MHD_add_response_header(resp, "Cache-Control", e->cache_control);
    MHD_add_response_header(resp, "ETag", v->etag);
    MHD_add_response_header(resp, "Last-Modified", v->last_modified);
    if (e->gz.present) MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (gz) MHD_add_response_header(resp, "Content-Encoding", "gzip");
}

/* Load the .gz sibling of path into e->gz when it is as new as the file. */
static void load_gz_sibling(static_root *s, const char *path, cache_entry *e, bool keep_bytes, int *gz_fd)
{
    char gzpath[PATH_MAX];
    int n = snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    if (n < 0 || (size_t)n >= sizeof gzpath || path[strlen(path) - 1] == '/') return;
    int fd;
    struct stat st;
    if (static_resolve(s, gzpath, &fd, &st, NULL, 0) != STATIC_OK) return;
    /* an older .gz than its file is stale: ignore it */
    if (st.st_mtim.tv_sec < e->plain.mtime.tv_sec ||
        (keep_bytes && (size_t)st.st_size > CACHE_FILE_MAX)) {
        close(fd);
        return;
    }
    if (keep_bytes) {
        char *bytes = malloc(st.st_size ? (size_t)st.st_size : 1);
        if (!bytes || read_all(fd, bytes, (size_t)st.st_size) != 0) {
            free(bytes);
            close(fd);
            return;
        }
        e->gz.bytes = bytes;
        close(fd);
    } else {
        *gz_fd = fd;
    }
    variant_describe(&e->gz, &st, true);
}

static cache_entry *entry_new(const char *path, const char *name)
{
    cache_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->path = strdup(path);
    if (!e->path) { free(e); return NULL; }
    atomic_init(&e->refs, 1);
    atomic_init(&e->checked_ms, clock_ms());
    e->content_type = static_content_type(name);
    bool html = strncmp(e->content_type, "text/html", 9) == 0;
    e->cache_control = (!html && static_name_is_hashed(name)) ? "public, max-age=31536000, immutable" : "no-cache";
    return e;
}

/* path %-encoded for a Location header: bytes outside the URL's safe set
 * (spaces, non-ASCII names such as 报表/) become %XX. */
static void location_encode(const char *path, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char safe[] = "-._~/!$&'()*+,;=:@";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < outlen; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(safe, *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static void reply_not_found(http_req *r, const char *path)
{
    http_reply_errorf(r, 404, API_NOT_FOUND, "找不到文件 (no file) %s", path);
}

void static_serve(static_root *s, http_req *r, const char *path)
{
    /* 1. a fresh cache entry answers without touching the file system */
    cache_entry *e = cache_get(s, path);
    if (e && clock_ms() - atomic_load(&e->checked_ms) > CACHE_RECHECK_MS) {
        int fd;
        struct stat st;
        enum static_status rs = static_resolve(s, path, &fd, &st, NULL, 0);
        bool still = rs == STATIC_OK && same_file(&e->plain, &st);
        if (rs == STATIC_OK) close(fd);
        if (still && e->gz.present) {
            /* the .gz must still be the same too */
            char gzpath[PATH_MAX];
            struct stat gst;
            int gfd;
            int n = snprintf(gzpath, sizeof gzpath, "%s.gz", path);
            still = n > 0 && (size_t)n < sizeof gzpath &&
                    static_resolve(s, gzpath, &gfd, &gst, NULL, 0) == STATIC_OK;
            if (still) { close(gfd); still = same_file(&e->gz, &gst); }
        }
        if (still) {
            atomic_store(&e->checked_ms, clock_ms());
        } else {
            cache_drop(s, e);
            entry_release(e);
            e = NULL;
        }
    }

    int fd = -1, gz_fd = -1;
    if (!e) {
        /* 2. resolve and load */
        struct stat st;
        enum static_status rs = static_resolve(s, path, &fd, &st, NULL, 0);
        switch (rs) {
        case STATIC_OK:
            break;
        case STATIC_IS_DIR: {
            char location[PATH_MAX * 3 + 2];
            location_encode(path, location, sizeof location - 1);
            strcat(location, "/");
            http_reply_errorf(r, 301, API_MOVED, "see %s", location);
            http_add_header(r, "Location", location);
            return;
        }
        case STATIC_OUTSIDE:
            log_warn("static", "refused %s: it resolves outside the web root", path);
            http_reply_errorf(r, 403, API_FORBIDDEN, "拒绝访问 (refused): %s leads outside the web root", path);
            return;
        case STATIC_ERROR:
            log_error("static", "%s: %s", path, strerror(errno));
            http_reply_errorf(r, 500, API_INTERNAL, "cannot read %s", path);
            return;
        default:
            reply_not_found(r, path);
            return;
        }
        const char *name = path[strlen(path) - 1] == '/' ? "index.html" : path;
        e = entry_new(path, name);
        if (!e) {
            close(fd);
            http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
            return;
        }
        variant_describe(&e->plain, &st, false);
        bool keep = e->plain.size <= CACHE_FILE_MAX;
        if (keep) {
            e->plain.bytes = malloc(e->plain.size ? e->plain.size : 1);
            if (!e->plain.bytes || read_all(fd, e->plain.bytes, e->plain.size) != 0) {
                log_error("static", "%s: cannot read the file", path);
                close(fd);
                entry_release(e);
                http_reply_errorf(r, 500, API_INTERNAL, "cannot read %s", path);
                return;
            }
            close(fd);
            fd = -1;
        }
        load_gz_sibling(s, path, e, keep, &gz_fd);
        if (keep) cache_put(s, e);
    }

    /* 3. the answer: 304, or the bytes of the chosen variant */
    bool use_gz = e->gz.present && http_accepts_gzip(r);
    const file_variant *v = use_gz ? &e->gz : &e->plain;
    const char *inm = http_header(r, "If-None-Match");
    const char *ims = inm ? NULL : http_header(r, "If-Modified-Since");
    struct MHD_Response *resp = NULL;
    int status = 200;
    if (etag_matches(inm, v->etag) || (ims && strcmp(ims, v->last_modified) == 0)) {
        status = 304;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (v->bytes) {
        atomic_fetch_add(&e->refs, 1);   /* the response's reference */
        resp = MHD_create_response_from_buffer_with_free_callback_cls(v->size, v->bytes, entry_release_cb, e);
        if (!resp) entry_release(e);
    } else {
        int use_fd = use_gz ? gz_fd : fd;
        resp = MHD_create_response_from_fd(v->size, use_fd);
        if (resp) {
            if (use_gz) gz_fd = -1; else fd = -1;   /* the response closes it */
        }
    }
    if (fd >= 0) close(fd);
    if (gz_fd >= 0) close(gz_fd);
    if (!resp) {
        entry_release(e);
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    add_file_headers(resp, e, v, use_gz && status == 200);
    entry_release(e);
    http_reply_response(r, status, resp);
}
