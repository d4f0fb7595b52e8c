/* http: the request as a route handler reads it (see http.h): its query
 * arguments, headers, cookies and client address. The answer is built with
 * http_reply.c; the server that reads requests and runs the handlers is
 * http_server.c. */
#include "http.h"
#include <arpa/inet.h>
#include <sys/socket.h>
#include <microhttpd.h>

const char *http_query(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->mhd, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, name);
}

const char *http_cookie(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->mhd, MHD_COOKIE_KIND, name);
}

const char *http_client_ip(http_req *r, char *buf, size_t len)
{
    if (len) buf[0] = '\0';
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return buf;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
    return buf;
}
