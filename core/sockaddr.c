/* core/sockaddr.c — numeric socket addresses, without a resolver. */
#include "transport_internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>

int il__sockaddr_numeric(const char *host, int port, int family,
                         struct sockaddr_storage *ss, socklen_t *len) {
  if (!ss || !len || port < 0 || port > 65535)
    return IL_EINVAL;
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (!host || !*host) {
    if (family == AF_INET6) {
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_any;
      in6->sin6_port = htons((uint16_t)port);
      *len = sizeof(*in6);
    } else if (family == AF_INET || family == AF_UNSPEC) {
      in4->sin_family = AF_INET;
      in4->sin_addr.s_addr = htonl(INADDR_ANY);
      in4->sin_port = htons((uint16_t)port);
      *len = sizeof(*in4);
    } else {
      return IL_EAFNOSUPPORT;
    }
    return (int)*len;
  }
  if ((family == AF_UNSPEC || family == AF_INET) &&
      inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    *len = sizeof(*in4);
    return (int)*len;
  }
  if (family == AF_UNSPEC || family == AF_INET6) {
    /* "fe80::1%eth0": a scope id by interface name or number. */
    char buf[64];
    const char *pct = strchr(host, '%');
    size_t n = pct ? (size_t)(pct - host) : strlen(host);
    if (n < sizeof(buf)) {
      memcpy(buf, host, n);
      buf[n] = '\0';
      if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (pct) {
          unsigned idx = if_nametoindex(pct + 1);
          if (!idx) {
            char *end;
            unsigned long v = strtoul(pct + 1, &end, 10);
            if (*end || end == pct + 1)
              return IL_EAI;
            idx = (unsigned)v;
          }
          in6->sin6_scope_id = idx;
        }
        *len = sizeof(*in6);
        return (int)*len;
      }
    }
  }
  return IL_EAI;
}
