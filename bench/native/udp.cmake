# The UDP ping-pong part (bench/parts/udp.py): the UDP echo server on raw
# epoll (the floor) and on each engine directly.
nb_program(native_udp_epoll udp_epoll.c none)
foreach(e uv ev event)
  nb_program(native_udp_${e} udp_${e}.c ${e})
endforeach()
