# The futures-and-tasks part (bench/parts/tasks.py; bench/py/asyncio_tasks.py
# is its asyncio twin).
add_executable(interloop-task-bench task_bench.c)
il_project_flags(interloop-task-bench)
target_link_libraries(interloop-task-bench PRIVATE interloop)
