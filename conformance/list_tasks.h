/* conformance/list_tasks.h — §8 tasks: X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_TASKS_H
#define IL_CONFORMANCE_LIST_TASKS_H

#define IL_TESTS_TASKS(X)                                                      \
  X(test_task_starts_next_pass, 10)                                            \
  X(test_task_spawn_without_out_still_runs, 10)                                \
  X(test_task_return_sets_result, 10)                                          \
  X(test_task_nonnegative_return_is_success, 10)                               \
  X(test_task_fail_sets_error, 10)                                             \
  X(test_task_unretrieved_failure_reported, 10)                                \
  X(test_await_done_future_no_suspend, 10)                                     \
  X(test_await_pending_future_suspends_resumes, 10)                            \
  X(test_await_same_future_from_many_tasks, 10)                                \
  X(test_yield_interleaves_tasks, 10)                                          \
  X(test_yield_runs_ready_callbacks_first, 10)                                 \
  X(test_sleep_never_early, 10)                                                \
  X(test_task_current_inside_outside, 10)                                      \
  X(test_suspend_outside_task_enotask, 10)                                     \
  X(test_await_other_loop_future_enotask, 10)                                  \
  X(test_await_self_einvalstate, 10)                                           \
  X(test_run_until_complete_inside_task_erunning, 10)                          \
  X(test_task_cancel_before_start, 10)                                         \
  X(test_task_cancel_while_awaiting, 10)                                       \
  X(test_task_returning_ecanceled_is_cancelled, 10)                            \
  X(test_task_handles_cancellation_not_cancelled, 10)                          \
  X(test_cancel_awaited_future_gives_ecanceled, 10)                            \
  X(test_task_cancel_self_delivered_at_next_await, 10)                         \
  X(test_task_cancel_awaited_task_handles_outcome_kept, 10)                    \
  X(test_task_cancel_after_awaited_future_done_delivered, 10)                  \
  X(test_task_outcome_is_what_fn_returns, 10)                                  \
  X(test_task_cancel_done_returns_zero, 10)                                    \
  X(test_task_cancelling_uncancel_counts, 10)                                  \
  X(test_task_cancel_at_each_await_kind, 20)                                   \
  X(test_await_failing_task_gives_code, 10)                                    \
  X(test_spawn_from_inside_task, 10)                                           \
  X(test_ten_thousand_tasks, 120)                                              \
  X(test_task_deep_recursion_stack_size, 20)                                   \
  X(test_task_options_and_name, 10)                                            \
  X(test_task_null_arguments_einval, 10)                                       \
  X(test_task_internal_handles_not_caller_held, 10)                            \
  X(test_close_unwinds_suspended_tasks, 10)                                    \
  X(test_close_unwinds_nested_waits, 10)                                       \
  X(test_task_stack_overflow_hits_guard, 30)

#endif
