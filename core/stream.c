/* core/stream.c — placeholder. */
