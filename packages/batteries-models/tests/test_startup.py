import pytest

from batteries_models import MissingPackageError
from batteries_models.startup import load_startup_task


def test_a_task_no_package_provides_names_the_distribution_to_install() -> None:
    with pytest.raises(MissingPackageError) as caught:
        load_startup_task(
            "no-such-task", distribution="batteries-nothing", asked_as="serve(nothing=True)"
        )
    assert str(caught.value) == (
        "serve(nothing=True) needs batteries-nothing, which is not installed: "
        "pip install batteries-nothing"
    )
    assert caught.value.distribution == "batteries-nothing"
