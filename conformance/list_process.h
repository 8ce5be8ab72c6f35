/* conformance/list_process.h — X(name, seconds), as test_list.h.
 * SPEC.md §13: pipe transports, subprocesses, the task helpers. */
#ifndef IL_CONFORMANCE_LIST_PROCESS_H
#define IL_CONFORMANCE_LIST_PROCESS_H

#define IL_TESTS_PROCESS(X)                                                    \
  X(test_pipe_read_data_eof_then_lost, 15)                                     \
  X(test_pipe_read_pause_resume, 15)                                           \
  X(test_pipe_fifo_read_and_write, 15)                                         \
  X(test_pipe_write_flow_control_big, 30)                                      \
  X(test_pipe_write_close_flushes_abort_drops, 15)                             \
  X(test_pipe_write_eof_closes_after_flush, 15)                                \
  X(test_pipe_write_reader_gone_idle_lost, 15)                                 \
  X(test_pipe_write_reader_gone_buffered_epipe, 15)                            \
  X(test_pipe_write_closed_pipe_epipe_no_sigpipe, 15)                          \
  X(test_pipe_wrong_direction_enotsup, 15)                                     \
  X(test_pipe_bad_fd_refused_untouched, 15)                                    \
  X(test_pipe_pty_read_master_eio_is_eof, 15)                                  \
  X(test_pipe_pty_write_master_to_slave, 15)                                   \
  X(test_subprocess_exit_code, 15)                                             \
  X(test_subprocess_killed_by_signal, 15)                                      \
  X(test_subprocess_50_at_once_reaped, 30)                                     \
  X(test_subprocess_callback_order_stderr_separate, 15)                        \
  X(test_subprocess_stderr_merged, 15)                                         \
  X(test_subprocess_interactive_cat, 15)                                       \
  X(test_subprocess_devnull_and_inherit, 15)                                   \
  X(test_subprocess_env_and_cwd, 15)                                           \
  X(test_subprocess_setsid_setpgid, 15)                                        \
  X(test_subprocess_16mib_through_cat_paused, 60)                              \
  X(test_subprocess_child_closes_stdout_early, 15)                             \
  X(test_subprocess_exec_failure_errno, 15)                                    \
  X(test_subprocess_200_in_a_row_reaped, 60)                                   \
  X(test_subprocess_no_fd_leak_to_child, 15)                                   \
  X(test_subprocess_close_kills_running, 15)                                   \
  X(test_subprocess_loop_close_kills_and_reaps, 15)                            \
  X(test_subprocess_exec_future_cancelled, 15)                                 \
  X(test_subprocess_bad_arguments_einval, 15)                                  \
  X(test_subprocess_child_signal_mask_empty, 15)                               \
  X(test_subprocess_wait_ignores_pipes, 15)                                    \
  X(test_subprocess_stdin_reader_gone_epipe, 15)                               \
  X(test_subprocess_sigchld_exit_code, 15)                                     \
  X(test_subprocess_sigchld_50_at_once, 30)                                    \
  X(test_subprocess_sigchld_killed_by_signal, 15)                              \
  X(test_subprocess_watcher_busy_with_child, 15)                               \
  X(test_subprocess_watcher_spares_foreign_child, 15)                          \
  X(test_subprocess_reaped_elsewhere_echild, 15)                               \
  X(test_subprocess_stdout_pty_slave, 15)                                      \
  X(test_process_run_output_and_input, 30)                                     \
  X(test_process_run_limit_and_timeout, 15)                                    \
  X(test_process_run_spawn_error, 15)                                          \
  X(test_process_run_cancelled_kills_child, 15)                                \
  X(test_process_open_streams_cat, 15)                                         \
  X(test_process_wait_cancelled, 15)                                           \
  X(test_process_no_zombies_no_fd_leaks, 30)

#endif
