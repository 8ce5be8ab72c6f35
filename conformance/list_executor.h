/* conformance/list_executor.h — §12 executor and DNS: X(name, seconds), as
 * test_list.h. */
#ifndef IL_CONFORMANCE_LIST_EXECUTOR_H
#define IL_CONFORMANCE_LIST_EXECUTOR_H

#define IL_TESTS_EXECUTOR(X)                                                   \
  X(test_executor_result_value_dtor_once, 10)                                  \
  X(test_executor_job_error_fails_future, 10)                                  \
  X(test_executor_many_jobs_all_complete, 30)                                  \
  X(test_executor_jobs_run_in_parallel, 20)                                    \
  X(test_executor_thread_limit_respected, 20)                                  \
  X(test_executor_workers_block_signals, 10)                                   \
  X(test_executor_cancel_before_start_never_runs, 20)                          \
  X(test_executor_cancel_after_start_destroys_result, 20)                      \
  X(test_executor_close_cancels_queued_waits_running, 20)                      \
  X(test_executor_await_from_task, 20)                                         \
  X(test_getaddrinfo_numeric_and_localhost, 30)                                \
  X(test_getaddrinfo_unknown_host_eai, 40)                                     \
  X(test_getnameinfo_loopback, 30)                                             \
  X(test_executor_bad_arguments_einval, 10)                                    \
  X(test_executor_wrong_thread_refused, 10)                                    \
  X(test_executor_closed_loop_eclosed, 10)

#endif
