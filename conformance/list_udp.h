/* conformance/list_udp.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_UDP_H
#define IL_CONFORMANCE_LIST_UDP_H

#define IL_TESTS_UDP(X)

#endif
