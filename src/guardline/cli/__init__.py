"""Command-line interface: thin wrappers that parse arguments, call a service and render."""
