"""The config resource."""
