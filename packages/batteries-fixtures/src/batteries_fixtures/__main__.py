"""``python -m batteries_fixtures``: the ``batteries-fixtures`` command."""

from batteries_fixtures.cli import main

if __name__ == "__main__":
    main()
