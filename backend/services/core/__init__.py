"""The shared core every job stands on: areas, people and sign-in, the audit log."""
