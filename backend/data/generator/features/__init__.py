"""Features placed on a part."""
