# The loop part's programs on the engines directly (bench/parts/loop.py):
# native_uv, native_ev, native_event and the raw epoll floor, with threads
# for the thread-safe ping-pong and libevent's pthreads locking.
foreach(e uv ev event)
  nb_program(native_${e} native_${e}.c ${e})
endforeach()
foreach(e uv ev event)
  if(TARGET native_${e})
    target_link_libraries(native_${e} PRIVATE Threads::Threads)
  endif()
endforeach()
if(TARGET native_event)
  pkg_check_modules(NB_EVENT_PTHREADS IMPORTED_TARGET libevent_pthreads)
  if(NB_EVENT_PTHREADS_FOUND)
    target_link_libraries(native_event PRIVATE PkgConfig::NB_EVENT_PTHREADS)
  else()
    message(STATUS "bench: no libevent_pthreads; native_event not built")
    set_target_properties(native_event PROPERTIES EXCLUDE_FROM_ALL TRUE)
  endif()
endif()

nb_program(native_loop_epoll loop_epoll.c none)
target_link_libraries(native_loop_epoll PRIVATE Threads::Threads)
