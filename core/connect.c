/* core/connect.c — placeholder. */
