/* conformance/list_transport.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_TRANSPORT_H
#define IL_CONFORMANCE_LIST_TRANSPORT_H

#define IL_TESTS_TRANSPORT(X)

#endif
