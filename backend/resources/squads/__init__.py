"""The squads resource."""
