"""The patrols resource."""
