/* conformance/list_net.h — X(name, seconds), as test_list.h.
 * SPEC.md §10: TCP and Unix-socket clients and servers. */
#ifndef IL_CONFORMANCE_LIST_NET_H
#define IL_CONFORMANCE_LIST_NET_H

#define IL_TESTS_NET(X)                                                        \
  X(test_net_client_server_state_machine, 10)                                  \
  X(test_net_echo_through_server, 20)                                          \
  X(test_net_ipv6_loopback, 10)                                                \
  X(test_net_server_dual_stack, 10)                                            \
  X(test_net_connect_refused, 20)                                              \
  X(test_net_connect_name_not_resolving, 40)                                   \
  X(test_net_connect_timeout, 10)                                              \
  X(test_net_connect_cancel, 20)                                               \
  X(test_net_connect_local_address, 10)                                        \
  X(test_net_server_close_keeps_connections, 10)                               \
  X(test_net_server_factory_refuses, 10)                                       \
  X(test_net_server_emfile_pauses, 20)                                         \
  X(test_net_server_reuseport, 10)                                             \
  X(test_net_unix_client_server, 10)                                           \
  X(test_net_server_adopt, 10)                                                 \
  X(test_net_loop_close_with_live_server, 20)                                  \
  X(test_net_bad_arguments, 10)

#endif
