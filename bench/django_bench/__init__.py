"""Django models over the scale benchmark's tables (``managed = False``: SQLAlchemy made them)."""
