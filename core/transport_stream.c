/* core/transport_stream.c — placeholder. */
