"""The demo town: places from geo.demo_town, plus squads, people and departments with Chinese names."""
