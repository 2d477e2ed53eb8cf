"""Each test sees its own rows: rollback per test, the app in the test's transaction, fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Project


def test_a_committing_endpoint_is_rolled_back_after_its_test(project: Project) -> None:
    project.write(
        test_endpoint="""
        from sqlmodel import select

        from models import Hero


        async def test_the_endpoint_commits(client, db_session):
            assert (await client.post("/heroes/Rusty")).status_code == 201
            # The app's session shares the test's connection: the test sees what it committed.
            assert [h.name for h in (await db_session.exec(select(Hero))).all()] == ["Rusty"]


        async def test_the_next_test_sees_nothing_of_it(client, db_session):
            assert (await client.get("/heroes")).json() == []
            db_session.add(Hero(name="Tester"))
            await db_session.commit()  # releases a SAVEPOINT, not the test's transaction
            assert (await client.get("/heroes")).json() == ["Tester"]


        async def test_a_failed_commit_in_the_app_leaves_the_test_usable(client, db_session):
            assert (await client.post("/heroes/Twin")).status_code == 201
            try:
                await client.post("/heroes/Twin")  # unique violation at the endpoint's commit
            except Exception as exc:
                assert "UNIQUE" in str(exc).upper() or "unique" in str(exc)
            else:
                raise AssertionError("the duplicate was accepted")
            assert (await client.get("/heroes")).json() == ["Twin"]


        async def test_committing_the_tests_own_transaction_is_refused(db_connection):
            await db_connection.exec_driver_sql("INSERT INTO hero (name) VALUES ('Escaped')")
            await db_connection.commit()


        async def test_and_the_last_sees_an_empty_table_too(db_session):
            assert (await db_session.exec(select(Hero))).all() == []
        """
    )
    result = project.run()
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: *test_committing_the_tests_own_transaction_is_refused: "
            "db_connection's transaction is the test's and is rolled back after it: commit "
            "through db_session (a SAVEPOINT), or mark the test *"
        ]
    )
    assert project.test_databases() == []


def test_fixture_files_load_inside_the_tests_transaction(project: Project) -> None:
    project.write(
        **{"data/more.json": '[{"table": "hero", "pk": 3, "fields": {"name": "Extra"}}]'},
        test_files="""
        import pytest
        from sqlmodel import select

        from models import Hero


        @pytest.mark.fixtures("heroes.json", "more.json")
        async def test_loaded(client):
            assert (await client.get("/heroes")).json() == ["Deadpond", "Extra", "Spider-Boy"]


        @pytest.mark.fixtures("heroes.json")
        async def test_new_rows_get_keys_after_the_loaded_ones(db_session):
            hero = Hero(name="New")
            db_session.add(hero)
            await db_session.commit()
            # Past the loaded keys (sequences only move forward, so maybe past earlier tests').
            assert hero.id > 2


        async def test_gone_after_the_test(db_session):
            assert (await db_session.exec(select(Hero))).all() == []


        @pytest.mark.fixtures("missing.json")
        async def test_a_missing_file_is_named():
            pass
        """,
    )
    project.ini('batteries_fixture_dirs = ["data"]')
    result = project.run()
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_a_missing_file_is_named: fixture file 'missing.json' not found (looked in *"]
    )


def test_module_fixtures_are_loaded_once_and_shared_but_isolated(project: Project) -> None:
    project.write(
        conftest="""
        import batteries_fixtures
        import pytest

        LOADS = []


        @pytest.fixture(autouse=True, scope="session")
        def count_loads():
            load = batteries_fixtures.load

            async def counting(*args, **kwargs):
                LOADS.append(args[1])
                return await load(*args, **kwargs)

            batteries_fixtures.load = counting
            yield
            batteries_fixtures.load = load
        """,
        test_module_data="""
        import pytest
        from sqlmodel import delete, select

        from conftest import LOADS
        from models import Hero

        pytestmark = [
            pytest.mark.asyncio(loop_scope="module"),
            pytest.mark.fixtures("heroes.json", scope="module"),
        ]


        async def test_a_test_may_delete_them(db_session):
            await db_session.exec(delete(Hero))
            await db_session.commit()
            assert (await db_session.exec(select(Hero))).all() == []


        async def test_the_next_has_them_back(client):
            assert (await client.get("/heroes")).json() == ["Deadpond", "Spider-Boy"]
            assert (await client.post("/heroes/Mine")).status_code == 201


        @pytest.mark.fixtures("more.json")
        async def test_per_test_files_add_to_them(client):
            names = (await client.get("/heroes")).json()
            assert names == ["Deadpond", "Extra", "Spider-Boy"]


        async def test_the_module_rows_and_nothing_else(db_session):
            names = [h.name for h in (await db_session.exec(select(Hero))).all()]
            assert sorted(names) == ["Deadpond", "Spider-Boy"]
            assert len(LOADS) == 2  # the module's load and test_per_test_files_add_to_them's
        """,
        test_after="""
        from sqlmodel import select

        from models import Hero


        async def test_another_module_sees_none_of_them(db_session):
            assert (await db_session.exec(select(Hero))).all() == []
        """,
        **{"more.json": '[{"table": "hero", "pk": 3, "fields": {"name": "Extra"}}]'},
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=5)


def test_transaction_true_commits_for_real_and_empties_the_tables_after(
    project: Project,
) -> None:
    project.write(
        test_commits="""
        import pytest
        from sqlmodel import select

        from batteries_models import DatabaseRegistry
        from models import Hero


        @pytest.mark.batteries_db(transaction=True)
        async def test_another_connection_sees_the_commit(client):
            assert (await client.post("/heroes/Real")).status_code == 201
            registry = DatabaseRegistry()  # the settings point at the test database
            try:
                async with registry.get().session() as other:
                    assert [h.name for h in (await other.exec(select(Hero))).all()] == ["Real"]
            finally:
                await registry.dispose_all()


        async def test_emptied_after_it(db_session):
            assert (await db_session.exec(select(Hero))).all() == []


        @pytest.mark.batteries_db(transaction=True)
        async def test_more_rows(db_session):
            db_session.add_all([Hero(name="a"), Hero(name="b")])
            await db_session.commit()


        @pytest.mark.batteries_db(transaction=True, reset_sequences=True)
        async def test_reset_sequences_starts_the_keys_again(db_session):
            hero = Hero(name="first")
            db_session.add(hero)
            await db_session.commit()
            assert hero.id == 1


        @pytest.mark.fixtures("heroes.json")
        @pytest.mark.batteries_db(reset_sequences=True)
        async def test_reset_sequences_after_a_fixture_continues_after_its_keys(db_session):
            hero = Hero(name="third")
            db_session.add(hero)
            await db_session.flush()
            assert hero.id == 3
        """
    )
    result = project.run()
    assert result.ret == 0, project.output(result)
    result.assert_outcomes(passed=5)
