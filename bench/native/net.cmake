# The TCP part's native programs (bench/parts/net.py): the echo server on
# each engine directly and on raw epoll (the floor); bench/net_common.h holds
# what they share.
nb_program(native_echo_epoll echo_epoll.c none)
foreach(e uv ev event)
  nb_program(native_echo_${e} echo_${e}.c ${e})
endforeach()
