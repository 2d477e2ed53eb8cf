#!/usr/bin/env bash
# Regenerate the golden files with a real Django (never a dependency of the packages):
#   python3 -m venv /tmp/djv && /tmp/djv/bin/pip install 'django>=5.2,<5.3' 'psycopg[binary]'
#   DJANGO_PYTHON=/tmp/djv/bin/python tests-integration/django_golden/regenerate.sh
# needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) for the PostgreSQL DDL.
set -euo pipefail
cd "$(dirname "$0")"
py=${DJANGO_PYTHON:-python}
work=$(mktemp -d)
# The migration is made afresh each time and not kept: the committed DDL is sqlmigrate's.
trap 'rm -rf "$work" library/migrations' EXIT
mkdir -p library/migrations && touch library/migrations/__init__.py
DJ_NAME=$work/db.sqlite3 "$py" manage.py makemigrations library -v0
DJ_NAME=$work/db.sqlite3 "$py" manage.py sqlmigrate library 0001 > sqlmigrate_sqlite.sql
psql -qU postgres -h 127.0.0.1 -c "DROP DATABASE IF EXISTS dj_golden" -c "CREATE DATABASE dj_golden"
DJ_ENGINE=postgresql DJ_NAME=dj_golden "$py" manage.py sqlmigrate library 0001 > sqlmigrate_postgresql.sql
psql -qU postgres -h 127.0.0.1 -c "DROP DATABASE dj_golden"
DJ_NAME=$work/db.sqlite3 "$py" manage.py migrate -v0
DJ_NAME=$work/db.sqlite3 "$py" manage.py shell -v0 -c "exec(open('seed.py').read())"
DJ_NAME=$work/db.sqlite3 "$py" manage.py dumpdata library --indent 2 -o dumpdata.json
DJ_NAME=$work/db.sqlite3 "$py" manage.py dumpdata library --indent 2 --natural-foreign \
  --natural-primary -o dumpdata_natural.json
