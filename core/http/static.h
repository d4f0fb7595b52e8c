/* static: the dashboards' files from the web root. Decodes request paths
 * strictly, resolves them inside the root only (no "..", no encoded "/",
 * no NUL, no symlink that leads out), and answers with content type, ETag,
 * Last-Modified, 304 revalidation, precompressed .gz siblings and cache
 * headers. Small files' bytes are kept in memory, keyed by path and checked
 * against the file's identity and mtime at most once a second. */
#ifndef FS_STATIC_H
#define FS_STATIC_H
#include <stddef.h>
#include <sys/stat.h>
#include "http.h"

/* Decode the path of a raw request target ("/a%20b/c.js?x=1" -> "/a b/c.js").
 * Refuses (-1, *why set to a sentence naming the problem) a target that does
 * not start with '/', a bad %-escape, an encoded '/' or '\', a NUL or other
 * control character, a backslash, and any "." or ".." segment, raw or encoded. */
int url_path_decode(const char *raw, char *out, size_t outlen, const char **why);

typedef struct static_root static_root;

/* Open the web root (it must be a directory); NULL with err on failure. */
static_root *static_root_open(const char *web_root, char *err, size_t errlen);
void static_root_close(static_root *s);

enum static_status {
    STATIC_OK = 0,
    STATIC_NOT_FOUND,      /* missing, not a regular file, or a hidden (dot) name */
    STATIC_OUTSIDE,        /* resolves outside the web root (a symlink out) */
    STATIC_IS_DIR,         /* a directory named without its trailing '/' */
    STATIC_ERROR,          /* any other failure (errno kept) */
};

/* Resolve a decoded path ("/", "/css/app.css", "/reports/") inside the root:
 * a trailing '/' means its index.html. On STATIC_OK *fd is an open regular
 * file (the caller closes it), *st its status, and real (if not NULL) the
 * resolved absolute path. */
enum static_status static_resolve(static_root *s, const char *path, int *fd, struct stat *st,
                                  char *real, size_t reallen);

/* The content type for a file name, by extension. */
const char *static_content_type(const char *name);
/* True when a file name carries a content hash (app.3f9a2c1b.js): cached for a year. */
bool static_name_is_hashed(const char *name);

/* Answer r (GET or HEAD) with the file at the decoded path. */
void static_serve(static_root *s, http_req *r, const char *path);
#endif
