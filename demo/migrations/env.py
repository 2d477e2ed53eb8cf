"""Alembic environment of this project, written by batteries-migrate.

The database URL, the models' MetaData and the version table are resolved when a command runs,
from the batteries settings (environment, .env, [tool.batteries] in pyproject.toml): nothing is
copied here. Keyword arguments go to Alembic's context.configure() (include_object=...).
"""

from alembic import context

from batteries_migrate.environment import run_env

run_env(context, compare_type=True, compare_server_default=True)
