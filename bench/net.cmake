# The TCP part (bench/parts/net.py): the load generator, on raw epoll, and
# interloop's echo servers (protocol and streams style); bench/native/
# net.cmake has the same server on each engine and on raw epoll.
add_executable(bench_echo_client echo_client.c)
il_project_flags(bench_echo_client)
add_executable(bench_echo_server echo_server.c)
il_project_flags(bench_echo_server)
target_link_libraries(bench_echo_server PRIVATE interloop)
