import inspect

import batteries_crud
import batteries_crud.fastapi
from batteries_crud import BaseCRUD

PUBLIC = [
    "LOOKUPS",
    "BaseCRUD",
    "CRUDDefinitionError",
    "CRUDError",
    "ConflictError",
    "CursorPage",
    "InvalidFilterError",
    "InvalidValueError",
    "MultipleFoundError",
    "NotFoundError",
    "Page",
    "__version__",
]


def test_all_lists_exactly_the_public_names() -> None:
    assert batteries_crud.__all__ == PUBLIC
    for name in batteries_crud.__all__:
        assert hasattr(batteries_crud, name)
    assert batteries_crud.fastapi.__all__ == [
        "ListQuery",
        "crud_dependency",
        "error_body",
        "install_exception_handlers",
        "list_query",
    ]


def public_methods() -> dict[str, str]:
    return {
        name: str(inspect.signature(member))
        for name, member in vars(BaseCRUD).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_every_public_name_has_a_docstring() -> None:
    for name in batteries_crud.__all__:
        if name.startswith("__") or name == "LOOKUPS":
            continue
        assert inspect.getdoc(getattr(batteries_crud, name)), name
    for name in public_methods():
        assert inspect.getdoc(getattr(BaseCRUD, name)), name


def test_version_comes_from_metadata() -> None:
    from importlib.metadata import version

    assert batteries_crud.__version__ == version("batteries-crud")
