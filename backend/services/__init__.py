"""Business rules: each service takes a session and plain values, and never touches the request."""
