"""Connectors: I/O at the edges (HTTP, AMQP, S3). They move bytes; parsers give them meaning."""
