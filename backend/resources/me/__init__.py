"""The me resource."""
