/* conformance/list_udp.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_UDP_H
#define IL_CONFORMANCE_LIST_UDP_H

#define IL_TESTS_UDP(X)                                                        \
  X(test_udp_round_trip_ipv4, 30)                                              \
  X(test_udp_round_trip_ipv6, 30)                                              \
  X(test_udp_made_before_future, 10)                                           \
  X(test_udp_connected_sendto_null, 10)                                        \
  X(test_udp_sendto_edestaddrreq, 10)                                          \
  X(test_udp_sendto_eisconn, 10)                                               \
  X(test_udp_sendto_emsgsize, 10)                                              \
  X(test_udp_unreachable_error_received, 20)                                   \
  X(test_udp_pause_reading_stops_datagrams, 10)                                \
  X(test_udp_write_buffer_idle_zero, 10)                                       \
  X(test_udp_queued_datagrams_in_order, 20)                                    \
  X(test_udp_close_flushes_queue, 20)                                          \
  X(test_udp_abort_drops_queue, 10)                                            \
  X(test_udp_queued_send_error_received, 10)                                   \
  X(test_udp_close_lost_once, 10)                                              \
  X(test_udp_abort_lost_ecanceled, 10)                                         \
  X(test_udp_write_enotsup, 10)                                                \
  X(test_udp_broadcast_flag, 10)                                               \
  X(test_udp_reuseport_shared_port, 10)                                        \
  X(test_udp_extra_info, 10)                                                   \
  X(test_udp_family_only_unbound, 10)                                          \
  X(test_udp_remote_name_resolved, 10)                                         \
  X(test_udp_cancel_creation, 10)                                              \
  X(test_udp_loop_close_lost_eclosed, 10)                                      \
  X(test_udp_bad_arguments_einval, 10)                                         \
  X(test_udp_wrong_thread_refused, 10)

#endif
