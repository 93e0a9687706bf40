"""Sources: pure parsers, one module per outside format. They do no I/O."""
