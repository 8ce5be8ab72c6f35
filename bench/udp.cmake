# The UDP ping-pong part (bench/parts/udp.py): the load generator, on raw
# epoll, and interloop's UDP echo server; bench/native/udp.cmake has the
# same server on each engine and on raw epoll.
add_executable(bench_udp_client udp_client.c)
il_project_flags(bench_udp_client)
add_executable(bench_udp_server udp_server.c)
il_project_flags(bench_udp_server)
target_link_libraries(bench_udp_server PRIVATE interloop)
