"""Domain-free helpers shared by every Guardline domain."""
