"""Public names of the pipeline-owned packages: ``__all__`` lists exactly what they export."""

import importlib
import inspect

import pytest

PACKAGES = [
    "powerprofile.config",
    "powerprofile.export",
    "powerprofile.tracking",
    "powerprofile.cli",
    "powerprofile.pipeline",
]

# Imported only when a command runs (``--help`` stays fast); its table is internal. Once
# any test has run a command it is an attribute of the package, so it is named here to
# keep the check independent of the test order.
LAZY = {"powerprofile.cli._commands"}


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_complete_and_resolvable(name):
    mod = importlib.import_module(name)
    assert sorted(mod.__all__) == sorted(set(mod.__all__)), "duplicates in __all__"
    for public in mod.__all__:
        assert hasattr(mod, public), f"{name}.__all__ names missing {public!r}"
    # every public name a private submodule exports is re-exported by the package
    if hasattr(mod, "__path__"):
        for sub in sorted(inspect.getmembers(mod, inspect.ismodule)):
            sub_mod = sub[1]
            if (
                sub_mod.__name__.startswith(name + "._")
                and hasattr(sub_mod, "__all__")
                and sub_mod.__name__ not in LAZY
            ):
                missing = sorted(set(sub_mod.__all__) - set(mod.__all__))
                assert not missing, f"{name} does not re-export {missing} from {sub_mod.__name__}"


def test_lazy_top_level_export_name():
    import powerprofile

    assert (
        powerprofile.export_campaigns
        is importlib.import_module("powerprofile.export").export_campaigns
    )
