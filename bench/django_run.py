"""``loaddata`` / ``dumpdata`` of Django over the scale tables, as one process of the benchmark.

python bench/django_run.py loaddata URL FILE
python bench/django_run.py dumpdata URL FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.engine import make_url


def main(command: str, url: str, path: str) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": parsed.database}
    else:
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.database,
            "USER": parsed.username or "",
            "PASSWORD": parsed.password or "",
            "HOST": parsed.host or "",
            "PORT": str(parsed.port or 5432),
        }
    sys.path.insert(0, str(Path(__file__).parent))
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["django_bench"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    if command == "loaddata":
        call_command("loaddata", path, verbosity=0)
    else:
        call_command("dumpdata", "django_bench", output=path, verbosity=0)


if __name__ == "__main__":
    main(*sys.argv[1:4])
