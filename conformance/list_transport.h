/* conformance/list_transport.h — X(name, seconds), as test_list.h.
 * SPEC.md §10: stream transports (TCP and Unix sockets), protocols. */
#ifndef IL_CONFORMANCE_LIST_TRANSPORT_H
#define IL_CONFORMANCE_LIST_TRANSPORT_H

#define IL_TESTS_TRANSPORT(X)                                                  \
  X(test_transport_state_machine_tcp, 10)                                      \
  X(test_transport_state_machine_unix, 10)                                     \
  X(test_transport_echo_64mib_flow_control, 120)                               \
  X(test_transport_half_close_both_ways, 10)                                   \
  X(test_transport_close_flushes_abort_drops, 20)                              \
  X(test_transport_write_after_close_or_eof, 10)                               \
  X(test_transport_write_buffer_limits, 10)                                    \
  X(test_transport_pause_resume_reading_idempotent, 10)                        \
  X(test_transport_peer_reset, 10)                                             \
  X(test_transport_buffered_protocol, 10)                                      \
  X(test_transport_extra_info, 10)                                             \
  X(test_transport_data_ref_after_lost, 10)                                    \
  X(test_transport_adopt_refusals, 10)                                         \
  X(test_transport_loop_close_loses_each, 10)                                  \
  X(test_transport_null_and_wrong_thread, 10)

#endif
