import inspect

import batteries_pytest
import batteries_pytest.plugin


def test_all_is_sorted_and_every_name_resolves() -> None:
    for module in (batteries_pytest, batteries_pytest.plugin):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_the_entry_point_names_the_plugin_module() -> None:
    from importlib.metadata import entry_points

    (found,) = [e for e in entry_points(group="pytest11") if e.name == "batteries"]
    assert found.value == "batteries_pytest.plugin"


def test_the_fixtures_are_documented() -> None:
    for name in batteries_pytest.plugin.__all__:
        assert inspect.getdoc(getattr(batteries_pytest.plugin, name))
