/* conformance/list_streams.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_STREAMS_H
#define IL_CONFORMANCE_LIST_STREAMS_H

#define IL_TESTS_STREAMS(X)

#endif
