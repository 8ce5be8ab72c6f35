# The loop part (bench/parts/loop.py): call_soon, iterations, timers and
# thread-safe calls on any backend; bench/native/loop.cmake has the same
# workloads on each engine directly and on raw epoll.
add_executable(loop_bench loop_bench.c)
il_project_flags(loop_bench)
target_link_libraries(loop_bench PRIVATE interloop Threads::Threads)
