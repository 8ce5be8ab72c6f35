/* conformance/list_futures.h — §7 futures: X(name, seconds), as test_list.h. */
#ifndef IL_CONFORMANCE_LIST_FUTURES_H
#define IL_CONFORMANCE_LIST_FUTURES_H

#define IL_TESTS_FUTURES(X)                                                    \
  X(test_future_initial_state, 10)                                             \
  X(test_future_result_pending_einvalstate, 10)                                \
  X(test_future_set_result_then_result, 10)                                    \
  X(test_future_set_error_then_error, 10)                                      \
  X(test_future_set_error_rejects_bad_codes, 10)                               \
  X(test_future_cancel_with_reason, 10)                                        \
  X(test_future_complete_done_future_refused, 10)                              \
  X(test_future_callbacks_never_synchronous, 10)                               \
  X(test_future_callbacks_call_soon_order, 10)                                 \
  X(test_future_remove_done_callback_count, 10)                                \
  X(test_future_done_callback_error_reported, 10)                              \
  X(test_future_unretrieved_error_reported_at_free, 10)                        \
  X(test_future_retrieved_error_not_reported, 10)                              \
  X(test_future_result_destructor_once_at_last_unref, 10)                      \
  X(test_future_ref_keeps_alive, 10)                                           \
  X(test_run_until_complete_returns_result, 10)                                \
  X(test_run_until_complete_returns_error, 10)                                 \
  X(test_run_until_complete_from_callback_erunning, 10)                        \
  X(test_run_until_complete_stopped_estopped, 10)                              \
  X(test_future_null_arguments_einval, 10)                                     \
  X(test_future_wrong_thread_refused, 10)                                      \
  X(test_future_outlives_loop_close, 10)

#endif
