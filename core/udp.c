/* core/udp.c — placeholder. */
