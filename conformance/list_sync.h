/* conformance/list_sync.h — §9 sync primitives: X(name, seconds), as
 * test_list.h. */
#ifndef IL_CONFORMANCE_LIST_SYNC_H
#define IL_CONFORMANCE_LIST_SYNC_H

#define IL_TESTS_SYNC(X)                                                       \
  /* §9.1 every primitive */                                                  \
  X(test_sync_wait_outside_task_enotask, 10)                                   \
  X(test_sync_free_with_waiters, 10)                                           \
  X(test_sync_loop_close_finishes_waiters, 10)                                 \
  X(test_sync_wait_timeout_leaves_primitive_consistent, 10)                    \
  X(test_sync_wrong_thread_refused, 10)                                        \
  X(test_sync_null_arguments_einval, 10)                                       \
  /* §9.2 lock */                                                             \
  X(test_lock_fifo_fairness, 10)                                               \
  X(test_lock_cancel_while_waiting, 10)                                        \
  X(test_lock_cancel_after_wakeup_passes_on, 10)                               \
  X(test_lock_release_unlocked_refused, 10)                                    \
  /* §9.3 event */                                                            \
  X(test_event_wait_set_clear_wakes_all, 10)                                   \
  /* §9.4 condition */                                                        \
  X(test_condition_notify_order, 10)                                           \
  X(test_condition_wait_for_predicate, 10)                                     \
  X(test_condition_notify_without_lock_refused, 10)                            \
  X(test_condition_cancel_reacquires_lock, 10)                                 \
  /* §9.5 semaphores */                                                       \
  X(test_semaphore_counts_fifo, 10)                                            \
  X(test_bounded_semaphore_over_release_refused, 10)                           \
  /* §9.6 queues */                                                           \
  X(test_queue_fifo_lifo_priority_order, 10)                                   \
  X(test_queue_put_blocks_full_get_blocks_empty, 10)                           \
  X(test_queue_nowait_errors, 10)                                              \
  X(test_queue_cancelled_getter_loses_no_item, 10)                             \
  X(test_queue_join_waits_for_task_done, 10)                                   \
  X(test_queue_task_done_too_many_refused, 10)

#endif
