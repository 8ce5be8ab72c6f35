/* core/dns.c — placeholder. */
