/* conformance/list_executor.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_EXECUTOR_H
#define IL_CONFORMANCE_LIST_EXECUTOR_H

#define IL_TESTS_EXECUTOR(X)

#endif
