"""A small FastAPI Batteries demo project: teams, heroes and powers."""
