/* db_url: parsing a database URL (mariadb://user:pass@host:port/db or
 * mariadb://user:pass@localhost/db?socket=/path) into a db_url (see db.h),
 * with a message naming the part that is wrong. Part of the MariaDB access
 * layer of core/store/; it needs no connection. */
#include "db.h"
#include <stdio.h>
#include <string.h>
#include "err.h"

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decode src[0..n) into dst (cap bytes with the NUL). */
static int url_decode(const char *src, size_t n, char *dst, size_t cap, const char *what,
                      char *err, size_t errlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%') {
            if (i + 2 >= n) {
                set_err(err, errlen, "database URL: incomplete %%-escape in the %s", what);
                return -1;
            }
            int h = hexval((unsigned char)src[i + 1]), l = hexval((unsigned char)src[i + 2]);
            if (h < 0 || l < 0) {
                set_err(err, errlen, "database URL: bad %%-escape \"%.3s\" in the %s", src + i, what);
                return -1;
            }
            ch = h * 16 + l;
            if (ch == 0) {
                set_err(err, errlen, "database URL: %%00 is not allowed in the %s", what);
                return -1;
            }
            i += 2;
        }
        if (o + 1 >= cap) {
            set_err(err, errlen, "database URL: the %s is too long (at most %zu bytes)", what, cap - 1);
            return -1;
        }
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

int db_parse_url(const char *url, db_url *out, char *err, size_t errlen)
{
    static const char scheme[] = "mariadb://";
    memset(out, 0, sizeof *out);
    if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "database URL must start with mariadb:// "
                "(mariadb://user:pass@host:port/dbname or mariadb://user:pass@localhost/dbname?socket=/path)");
        return -1;
    }
    const char *auth = url + sizeof scheme - 1;
    const char *auth_end = auth + strcspn(auth, "/?#");
    if (*auth_end != '/') {
        set_err(err, errlen, "database URL: the database name is missing (…/dbname after the host)");
        return -1;
    }
    /* user[:pass]@host[:port]; the last '@' ends the user part (an '@' in a
     * password should be written %40, but a bare one still works). */
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@') at = p;
    if (!at) {
        set_err(err, errlen, "database URL: the user is missing (mariadb://user:pass@host/dbname)");
        return -1;
    }
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    const char *user_end = colon ? colon : at;
    if (user_end == auth) {
        set_err(err, errlen, "database URL: the user is empty");
        return -1;
    }
    if (url_decode(auth, (size_t)(user_end - auth), out->user, sizeof out->user, "user", err, errlen)) return -1;
    if (colon && url_decode(colon + 1, (size_t)(at - colon - 1), out->pass, sizeof out->pass, "password", err, errlen))
        return -1;

    /* host: name, IPv4 or [IPv6], then an optional :port */
    const char *host = at + 1, *host_end, *port_str = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(auth_end - host));
        if (!close) {
            set_err(err, errlen, "database URL: the IPv6 host has no closing ']'");
            return -1;
        }
        host_end = close + 1;
        if (host_end < auth_end) {
            if (*host_end != ':') {
                set_err(err, errlen, "database URL: unexpected text after the IPv6 host");
                return -1;
            }
            port_str = host_end + 1;
        }
        host++;                          /* without the brackets */
        if ((size_t)(close - host) >= sizeof out->host || close == host) {
            set_err(err, errlen, "database URL: bad host");
            return -1;
        }
        memcpy(out->host, host, (size_t)(close - host));
    } else {
        const char *pc = memchr(host, ':', (size_t)(auth_end - host));
        host_end = pc ? pc : auth_end;
        if (pc) port_str = pc + 1;
        if (host_end == host) {
            set_err(err, errlen, "database URL: the host is empty");
            return -1;
        }
        if (url_decode(host, (size_t)(host_end - host), out->host, sizeof out->host, "host", err, errlen)) return -1;
    }
    out->port = 3306;
    if (port_str) {
        unsigned long port = 0;
        const char *p = port_str;
        if (p == auth_end) {
            set_err(err, errlen, "database URL: the port after ':' is empty");
            return -1;
        }
        for (; p < auth_end; p++) {
            if (*p < '0' || *p > '9' || port > 65535) break;
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (p != auth_end || port == 0 || port > 65535) {
            set_err(err, errlen, "database URL: the port must be a number from 1 to 65535");
            return -1;
        }
        out->port = (unsigned)port;
    }

    /* /dbname */
    const char *dbname = auth_end + 1;
    const char *db_end = dbname + strcspn(dbname, "?#");
    if (db_end == dbname) {
        set_err(err, errlen, "database URL: the database name is empty");
        return -1;
    }
    if (url_decode(dbname, (size_t)(db_end - dbname), out->db, sizeof out->db, "database name", err, errlen))
        return -1;
    if (strchr(out->db, '/')) {
        set_err(err, errlen, "database URL: the database name may not contain '/'");
        return -1;
    }

    /* ?socket=/path (the only parameter) */
    if (*db_end == '#') {
        set_err(err, errlen, "database URL: a '#' fragment is not allowed");
        return -1;
    }
    if (*db_end == '?') {
        const char *q = db_end + 1;
        while (*q) {
            const char *amp = q + strcspn(q, "&#");
            if (*amp == '#') {
                set_err(err, errlen, "database URL: a '#' fragment is not allowed");
                return -1;
            }
            const char *eq = memchr(q, '=', (size_t)(amp - q));
            if (eq && (size_t)(eq - q) == 6 && strncmp(q, "socket", 6) == 0) {
                if (url_decode(eq + 1, (size_t)(amp - eq - 1), out->socket, sizeof out->socket, "socket path",
                               err, errlen))
                    return -1;
                if (out->socket[0] != '/') {
                    set_err(err, errlen, "database URL: socket= needs an absolute path");
                    return -1;
                }
            } else {
                set_err(err, errlen, "database URL: unknown parameter \"%.*s\" (only socket=/path is known)",
                        (int)(eq ? eq - q : amp - q), q);
                return -1;
            }
            q = *amp ? amp + 1 : amp;
        }
    }
    return 0;
}
