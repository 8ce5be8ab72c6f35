/* conformance/test_list.h — every conformance test, once: X(name, seconds).
 * The name is the rule it checks (spec/SPEC.md cites it); the number is the
 * test's time limit before the runner kills it. Order: as in SPEC.md. */
#ifndef IL_CONFORMANCE_TEST_LIST_H
#define IL_CONFORMANCE_TEST_LIST_H

/* Later areas keep their lists beside their tests (list_*.h). */
#include "list_futures.h"
#include "list_tasks.h"
#include "list_combinators.h"
#include "list_sync.h"
#include "list_executor.h"
#include "list_transport.h"
#include "list_net.h"
#include "list_udp.h"
#include "list_streams.h"
#include "list_process.h"

#define IL_CONFORMANCE_TESTS(X)                                                \
  /* §2-3 version and errors */                                               \
  X(test_version_matches_header, 10)                                           \
  X(test_error_table_names_and_messages, 10)                                   \
  /* §4.1 lifecycle, §5.4 backends */                                        \
  X(test_unknown_backend_names_available, 10)                                  \
  X(test_loader_refusals_explained, 10)                                        \
  X(test_backends_side_by_side, 20)                                            \
  X(test_backends_side_by_side_reverse_load, 20)                               \
  X(test_adopted_engine_run_drives_interloop, 10)                              \
  X(test_null_arguments_einval, 10)                                            \
  X(test_backend_name_reported, 10)                                            \
  X(test_close_while_running_refused, 10)                                      \
  X(test_close_inside_callback_refused, 10)                                    \
  X(test_calls_after_close_return_eclosed, 10)                                 \
  X(test_remove_after_close_reports_nothing, 10)                               \
  X(test_close_drops_pending_as_cancelled, 10)                                 \
  X(test_loop_data_destructor_at_close, 10)                                    \
  /* §4.2 running */                                                          \
  X(test_run_default_until_stop, 10)                                           \
  X(test_run_once_runs_one_pass, 10)                                           \
  X(test_run_once_blocks_until_work, 10)                                       \
  X(test_run_nowait_never_blocks, 10)                                          \
  X(test_run_reentrant_refused, 10)                                            \
  X(test_stop_inside_callback_finishes_pass, 10)                               \
  X(test_stop_before_run_one_nonblocking_pass, 10)                             \
  X(test_loop_time_monotonic, 10)                                              \
  /* §4.3 callbacks */                                                        \
  X(test_call_soon_fifo, 10)                                                   \
  X(test_call_soon_added_during_pass_runs_next_pass, 10)                       \
  X(test_handle_cancel, 10)                                                    \
  X(test_handle_cancel_after_run_is_noop, 10)                                  \
  X(test_handle_outlives_loop, 10)                                             \
  X(test_call_soon_chain_many, 20)                                             \
  /* §4.4 timers */                                                           \
  X(test_call_later_never_early, 10)                                           \
  X(test_call_at_absolute_deadline, 10)                                        \
  X(test_timer_deadline_order, 10)                                             \
  X(test_timer_equal_deadlines_fifo, 10)                                       \
  X(test_timer_negative_delay_runs_soon, 10)                                   \
  X(test_timer_cancel, 10)                                                     \
  X(test_timer_cancel_many_compacts, 20)                                       \
  X(test_timer_subms_no_busy_spin, 10)                                         \
  X(test_timer_wakes_blocked_loop, 10)                                         \
  /* §4.5 thread-safe calls */                                                \
  X(test_threadsafe_many_threads_none_lost, 60)                                \
  X(test_threadsafe_wakes_blocked_loop, 10)                                    \
  X(test_threadsafe_pingpong_never_stalls, 60)                                 \
  X(test_threadsafe_after_close_eclosed, 10)                                   \
  X(test_wrong_thread_refused, 10)                                             \
  /* §4.6 file descriptors */                                                 \
  X(test_add_reader_fires_on_data, 10)                                         \
  X(test_add_reader_replaces, 10)                                              \
  X(test_remove_reports_whether_registered, 10)                                \
  X(test_add_writer_fires_when_writable, 10)                                   \
  X(test_reader_and_writer_same_fd, 10)                                        \
  X(test_reader_removed_and_readded_in_callback, 10)                           \
  X(test_reader_removed_before_delivery_not_called, 10)                        \
  X(test_add_reader_bad_fd, 10)                                                \
  X(test_reader_sees_hangup, 10)                                               \
  /* §4.7 signals */                                                          \
  X(test_signal_handler_runs_on_loop_thread, 10)                               \
  X(test_signal_handler_removed_restores, 10)                                  \
  X(test_signal_two_loops, 10)                                                 \
  X(test_signal_across_backends, 20)                                           \
  X(test_signal_across_backends_reverse_removal, 20)                           \
  /* §4.8 errors */                                                           \
  X(test_error_handler_receives_callback_error, 10)                            \
  X(test_error_handler_io_and_timer_sources, 10)                               \
  X(test_report_error_reaches_handler, 10)                                     \
  /* §4.9 debug and introspection */                                          \
  X(test_debug_slow_callback_reported, 10)                                     \
  X(test_debug_leaked_handle_reported, 10)                                     \
  X(test_stats_count_pending_work, 10)                                         \
  /* §4.10 fork */                                                            \
  X(test_fork_child_reinit, 20)                                                \
  IL_TESTS_FUTURES(X)                                                          \
  IL_TESTS_TASKS(X)                                                            \
  IL_TESTS_COMBINATORS(X)                                                      \
  IL_TESTS_SYNC(X)                                                             \
  IL_TESTS_EXECUTOR(X)                                                         \
  IL_TESTS_TRANSPORT(X)                                                        \
  IL_TESTS_NET(X)                                                              \
  IL_TESTS_UDP(X)                                                              \
  IL_TESTS_STREAMS(X)                                                          \
  IL_TESTS_PROCESS(X)

#endif /* IL_CONFORMANCE_TEST_LIST_H */
