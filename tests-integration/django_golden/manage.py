"""Django settings and manage.py in one file, for regenerating the golden files (see README.md)."""

import os
import sys
from pathlib import Path

from django.conf import settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if os.environ.get("DJ_ENGINE", "sqlite") == "sqlite":
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJ_NAME"]}
else:
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["DJ_NAME"],
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
settings.configure(
    DATABASES={"default": database},
    INSTALLED_APPS=["library"],
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
)
import django  # noqa: E402

django.setup()
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(sys.argv)
