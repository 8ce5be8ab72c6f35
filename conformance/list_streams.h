/* conformance/list_streams.h — X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_STREAMS_H
#define IL_CONFORMANCE_LIST_STREAMS_H

#define IL_TESTS_STREAMS(X)                                                    \
  X(test_stream_echo_tcp, 20)                                                  \
  X(test_stream_echo_unix, 20)                                                 \
  X(test_stream_read_returns_available_then_eof, 20)                           \
  X(test_stream_readexactly_and_eincomplete, 20)                               \
  X(test_stream_readline_split_lines_and_last_line, 20)                        \
  X(test_stream_readline_limit_keeps_data, 20)                                 \
  X(test_stream_readuntil_split_separator_limit_incomplete, 20)                \
  X(test_stream_limit_option, 20)                                              \
  X(test_stream_reader_pauses_above_twice_limit, 30)                           \
  X(test_stream_drain_waits_while_paused, 30)                                  \
  X(test_stream_write_drain_after_peer_reset_fail, 20)                         \
  X(test_stream_write_eof_then_read_reply, 20)                                 \
  X(test_stream_close_wait_closed, 20)                                         \
  X(test_stream_cancel_readline_keeps_buffer, 20)                              \
  X(test_stream_release_wakes_readers_eclosed, 20)                             \
  X(test_stream_calls_outside_task_enotask, 20)                                \
  X(test_stream_null_arguments_einval, 20)                                     \
  X(test_stream_null_buffers_einval, 20)                                       \
  X(test_stream_wrong_thread_refused, 20)                                      \
  X(test_stream_handler_error_reported, 20)                                    \
  X(test_stream_loop_close_with_blocked_handlers, 20)                          \
  X(test_stream_open_connection_refused, 20)                                   \
  X(test_stream_open_connection_cancelled_no_leak, 20)

#endif
