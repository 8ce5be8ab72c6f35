/* conformance/list_net.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_NET_H
#define IL_CONFORMANCE_LIST_NET_H

#define IL_TESTS_NET(X)

#endif
