"""What other systems use to write into GridPatrol: API keys, and Open311 GeoReport v2."""
