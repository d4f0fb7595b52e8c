/* test_static: request path decoding and resolution inside the web root:
 * every traversal form ("..", "%2e%2e", encoded "/", NUL, backslash) is
 * refused, and a symlink that leads out of the root is never opened. Builds
 * a throwaway web root in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "static.h"

/* --- fixture --- */

static char base[PATH_MAX];      /* temp dir: holds secret.txt and www/ */
static char root[PATH_MAX + 8];    /* base/www: the web root */

static void write_file(const char *rel, const char *text)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(2); }
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (mkdir(p, 0755) != 0) { perror(p); exit(2); }
}

static void make_link(const char *target, const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (symlink(target, p) != 0) { perror(p); exit(2); }
}

static void build_fixture(void)
{
    snprintf(base, sizeof base, "%s/fs-static-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(base)) { perror("mkdtemp"); exit(2); }
    snprintf(root, sizeof root, "%s/www", base);
    write_file("secret.txt", "outside the root\n");
    make_dir("www");
    make_dir("www/css");
    make_dir("www/reports");
    write_file("www/index.html", "<!doctype html><title>首页</title>\n");
    write_file("www/css/app.css", "body{}\n");
    write_file("www/reports/index.html", "<!doctype html>\n");
    write_file("www/.env", "SECRET=1\n");
    make_link("../secret.txt", "www/evil.txt");          /* relative, out of the root */
    make_link("/etc", "www/etc");                         /* absolute directory out */
    make_link("..", "www/up");                            /* the parent itself */
    make_link("index.html", "www/home.html");             /* inside: allowed */
    make_link("css", "www/styles");                       /* directory inside: allowed */
}

static void remove_fixture(void)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
}

/* --- path decoding --- */

static void expect_decoded(const char *raw, const char *want)
{
    char out[256];
    const char *why = NULL;
    int rc = url_path_decode(raw, out, sizeof out, &why);
    CHECK(rc == 0, "decode accepts %s", raw);
    if (rc == 0) CHECK_STR(out, want, "decode %s", raw);
}

static void expect_refused(const char *raw, const char *label)
{
    char out[256];
    const char *why = NULL;
    int rc = url_path_decode(raw, out, sizeof out, &why);
    CHECK(rc == -1 && why && *why, "decode refuses %s (%s)%s%s", label, raw, why ? ": " : "", why ? why : "");
}

static void test_decode(void)
{
    expect_decoded("/", "/");
    expect_decoded("/index.html", "/index.html");
    expect_decoded("/a%20b/c.js", "/a b/c.js");
    expect_decoded("/css/app.css?v=1&x=/../..", "/css/app.css");
    expect_decoded("/page#../../x", "/page");
    expect_decoded("/%E5%A4%A9%E6%B2%B3", "/天河");
    expect_decoded("/.../x", "/.../x");                 /* three dots is a name, not a step up */
    expect_decoded("/a..b/c", "/a..b/c");
    expect_decoded("/api/v1/scorecards/gz-01/run", "/api/v1/scorecards/gz-01/run");

    expect_refused("/../etc/passwd", "raw ..");
    expect_refused("/css/../../secret.txt", "raw .. in the middle");
    expect_refused("/css/..", "raw .. at the end");
    expect_refused("/..?x=1", "raw .. before the query");
    expect_refused("/%2e%2e/secret.txt", "encoded ..");
    expect_refused("/%2E%2E/secret.txt", "encoded .. upper case");
    expect_refused("/.%2e/secret.txt", "half-encoded ..");
    expect_refused("/css/%2e", "encoded .");
    expect_refused("/./index.html", "raw .");
    expect_refused("/..%2fsecret.txt", "encoded /");
    expect_refused("/css%2F..%2F..%2Fsecret.txt", "encoded / upper case");
    expect_refused("/css%5c..%5csecret.txt", "encoded backslash");
    expect_refused("/css\\..\\secret.txt", "raw backslash");
    expect_refused("/index.html%00.txt", "encoded NUL");
    expect_refused("/a%0ab", "encoded newline");
    expect_refused("/a%zzb", "bad escape");
    expect_refused("/a%4", "truncated escape");
    expect_refused("index.html", "no leading /");
    expect_refused("http://evil/x", "absolute form");
    expect_refused("", "empty");

    char small[8];
    const char *why = NULL;
    CHECK(url_path_decode("/abcdefghijkl", small, sizeof small, &why) == -1, "decode refuses a path longer than the buffer");
}

/* --- resolution --- */

static enum static_status resolve(static_root *s, const char *path, char *real, size_t len)
{
    int fd = -1;
    struct stat st;
    enum static_status rc = static_resolve(s, path, &fd, &st, real, len);
    if (rc == STATIC_OK) {
        CHECK(fd >= 0 && S_ISREG(st.st_mode), "%s: an open regular file", path);
        close(fd);
    } else {
        CHECK(fd == -1, "%s: no descriptor when refused", path);
    }
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_resolve(void)
{
    char err[512];
    static_root *s = static_root_open(root, err, sizeof err);
    CHECK(s != NULL, "open the web root %s", root);
    if (!s) return;
    char real[PATH_MAX];

    CHECK_INT(resolve(s, "/", real, sizeof real), STATIC_OK, "/ resolves");
    CHECK(ends_with(real, "/www/index.html"), "/ is index.html (%s)", real);
    CHECK_INT(resolve(s, "/css/app.css", real, sizeof real), STATIC_OK, "/css/app.css resolves");
    CHECK(ends_with(real, "/www/css/app.css"), "/css/app.css is the file (%s)", real);
    CHECK_INT(resolve(s, "/reports/", real, sizeof real), STATIC_OK, "/reports/ resolves");
    CHECK(ends_with(real, "/www/reports/index.html"), "/reports/ is its index.html (%s)", real);
    CHECK_INT(resolve(s, "/reports", real, sizeof real), STATIC_IS_DIR, "/reports (no slash) is a directory");
    CHECK_INT(resolve(s, "//css//app.css", real, sizeof real), STATIC_OK, "repeated slashes resolve inside");

    CHECK_INT(resolve(s, "/missing.js", real, sizeof real), STATIC_NOT_FOUND, "a missing file");
    CHECK_INT(resolve(s, "/css/app.css/", real, sizeof real), STATIC_NOT_FOUND, "a file named as a directory");
    CHECK_INT(resolve(s, "/css/", real, sizeof real), STATIC_NOT_FOUND, "a directory without index.html");
    CHECK_INT(resolve(s, "/.env", real, sizeof real), STATIC_NOT_FOUND, "a hidden file");

    CHECK_INT(resolve(s, "/evil.txt", real, sizeof real), STATIC_OUTSIDE, "a relative symlink out of the root");
    CHECK_INT(resolve(s, "/etc/passwd", real, sizeof real), STATIC_OUTSIDE, "a file under a symlinked directory out of the root");
    CHECK_INT(resolve(s, "/up/secret.txt", real, sizeof real), STATIC_OUTSIDE, "a symlink to the parent");
    CHECK_INT(resolve(s, "/home.html", real, sizeof real), STATIC_OK, "a symlink inside the root");
    CHECK_INT(resolve(s, "/styles/app.css", real, sizeof real), STATIC_OK, "a symlinked directory inside the root");

    /* even if a caller skipped url_path_decode, ".." cannot climb out */
    CHECK(resolve(s, "/../secret.txt", real, sizeof real) != STATIC_OK, "raw .. handed to resolve is still refused");
    CHECK(resolve(s, "/css/../../secret.txt", real, sizeof real) != STATIC_OK, "raw .. deeper is still refused");
    static_root_close(s);

    /* a root that is itself a symlink: files under it still resolve */
    char linked[PATH_MAX + 16];
    snprintf(linked, sizeof linked, "%s/www-link", base);
    if (symlink(root, linked) == 0) {
        static_root *sl = static_root_open(linked, err, sizeof err);
        CHECK(sl != NULL, "open a symlinked web root");
        if (sl) {
            CHECK_INT(resolve(sl, "/css/app.css", real, sizeof real), STATIC_OK, "a file under a symlinked web root");
            CHECK_INT(resolve(sl, "/evil.txt", real, sizeof real), STATIC_OUTSIDE, "still no way out of a symlinked web root");
            static_root_close(sl);
        }
    }
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/nope", base);
    CHECK(static_root_open(missing, err, sizeof err) == NULL && strstr(err, "nope"), "a missing web root is an error naming it (%s)", err);
}

/* --- content types and cache policy --- */

static void test_types(void)
{
    CHECK_STR(static_content_type("/index.html"), "text/html; charset=utf-8", "html");
    CHECK_STR(static_content_type("/a/app.css"), "text/css; charset=utf-8", "css");
    CHECK_STR(static_content_type("/a/app.js"), "text/javascript; charset=utf-8", "js");
    CHECK_STR(static_content_type("/a/mod.mjs"), "text/javascript; charset=utf-8", "mjs");
    CHECK_STR(static_content_type("/a/data.json"), "application/json; charset=utf-8", "json");
    CHECK_STR(static_content_type("/a/logo.svg"), "image/svg+xml", "svg");
    CHECK_STR(static_content_type("/a/logo.PNG"), "image/png", "png, any case");
    CHECK_STR(static_content_type("/favicon.ico"), "image/x-icon", "ico");
    CHECK_STR(static_content_type("/f/noto.woff2"), "font/woff2", "woff2");
    CHECK_STR(static_content_type("/robots.txt"), "text/plain; charset=utf-8", "txt");
    CHECK_STR(static_content_type("/a/app.js.map"), "application/json; charset=utf-8", "map");
    CHECK_STR(static_content_type("/r/report.xlsx"),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx");
    CHECK_STR(static_content_type("/LICENSE"), "application/octet-stream", "no extension");
    CHECK_STR(static_content_type("/.hidden"), "application/octet-stream", "a dot name is not an extension");

    CHECK(static_name_is_hashed("/assets/app.3f9a2c1b.js"), "app.3f9a2c1b.js is hashed");
    CHECK(static_name_is_hashed("/assets/index-5d41402abc4b2a76.css"), "index-<16 hex>.css is hashed");
    CHECK(!static_name_is_hashed("/vendor/echarts.min.js"), "echarts.min.js is not hashed");
    CHECK(!static_name_is_hashed("/index.html"), "index.html is not hashed");
    CHECK(!static_name_is_hashed("/assets/deadbeefcafe.js"), "a bare hex name is not a hash suffix");
    CHECK(!static_name_is_hashed("/assets/app.abcdefab.js"), "hex letters only (no digit) is likely a word");
}

int main(void)
{
    build_fixture();
    test_decode();
    test_resolve();
    test_types();
    remove_fixture();
    return check_done();
}
