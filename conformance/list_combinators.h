/* conformance/list_combinators.h — §7.5-8.8 combinators, timeouts, task groups:
 * X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_COMBINATORS_H
#define IL_CONFORMANCE_LIST_COMBINATORS_H

#define IL_TESTS_COMBINATORS(X)                                                \
  X(test_gather_results_in_argument_order, 10)                                 \
  X(test_gather_first_error_others_continue, 10)                               \
  X(test_gather_collect_errors_waits_for_all, 10)                              \
  X(test_gather_cancel_cancels_children, 10)                                   \
  X(test_gather_of_zero_done_at_once, 10)                                      \
  X(test_gather_cancelled_child_fails_gather, 10)                              \
  X(test_gather_child_of_other_loop_refused, 10)                               \
  X(test_gather_same_future_twice, 10)                                         \
  X(test_combinators_released_early, 10)                                       \
  X(test_wait_first_completed, 10)                                             \
  X(test_wait_all_completed, 10)                                               \
  X(test_wait_first_error, 10)                                                 \
  X(test_wait_timeout_leaves_futures_pending, 10)                              \
  X(test_wait_cancel_stops_watching_only, 10)                                  \
  X(test_wait_does_not_retrieve_errors, 10)                                    \
  X(test_wait_for_success_returns_value, 10)                                   \
  X(test_wait_for_timeout_cancels_inner, 10)                                   \
  X(test_wait_for_inner_finishing_anyway_wins, 10)                             \
  X(test_wait_for_outer_cancel_cancels_inner, 10)                              \
  X(test_shield_mirrors_inner, 10)                                             \
  X(test_shield_cancel_leaves_inner_running, 10)                               \
  X(test_timeout_scope_expires_etimedout, 10)                                  \
  X(test_timeout_scope_not_expired_rc_unchanged, 10)                           \
  X(test_timeout_scope_reschedule, 10)                                         \
  X(test_timeout_scopes_nested, 10)                                            \
  X(test_timeout_scope_outside_cancel_stays_ecanceled, 10)                     \
  X(test_taskgroup_all_children_succeed, 10)                                   \
  X(test_taskgroup_first_error_cancels_siblings, 10)                           \
  X(test_taskgroup_failure_cancels_parent_await, 10)                           \
  X(test_taskgroup_parent_cancelled_cancels_children, 10)                      \
  X(test_taskgroup_spawn_into_failing_group_refused, 10)                       \
  X(test_taskgroup_wait_only_by_parent, 10)                                    \
  X(test_error_codes_flow_through_gather_and_groups, 10)

#endif
