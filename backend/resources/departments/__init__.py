"""The departments resource."""
