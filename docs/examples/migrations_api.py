# migrate.py: the same journey from Python. Run from the project folder, with
# BATTERIES_DATABASE_URL (or DATABASE_URL) and [tool.batteries] models = "app.models" set.
import batteries_migrate

batteries_migrate.init()  # migrations/ with env.py, script.py.mako, versions/

revision = batteries_migrate.make_migration("create hero")  # autogenerate from app.models
assert revision is not None
print(f"wrote {revision.path.name}")

print(batteries_migrate.upgrade(sql=True))  # dry run: the SQL, nothing changes
batteries_migrate.upgrade()  # to head
assert batteries_migrate.current() == (revision.id,)
assert batteries_migrate.check() == []  # models and migrations agree

batteries_migrate.downgrade("base")  # and back
assert batteries_migrate.current() == ()
