"""Framework pieces configured once: the database, the API and its blueprints."""
