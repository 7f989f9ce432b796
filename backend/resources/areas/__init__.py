"""The areas resource."""
