"""The public surface: every advertised name exists, and every subpackage's ``__all__`` is complete."""

import importlib
import inspect
import pkgutil

import pytest

import powerprofile

SUBPACKAGES = sorted(
    m.name
    for m in pkgutil.iter_modules(powerprofile.__path__, "powerprofile.")
    if not m.name.rsplit(".", 1)[-1].startswith("_")
)


@pytest.mark.parametrize("name", powerprofile.__all__)
def test_top_level_names_resolve(name):
    obj = getattr(powerprofile, name)
    if name == "__version__":
        assert isinstance(obj, str) and obj.count(".") == 2, obj
    else:
        # every lazy name is a function or a class (a bare submodule is not callable)
        assert callable(obj), obj
        module = importlib.import_module(powerprofile._LAZY[name])
        # the name, or a callable subpackage of that name once it has been imported
        assert obj is getattr(module, name) or obj is module


def test_top_level_entry_points_named_in_the_issues():
    for name in [
        "load_tables",
        "build_features",
        "build_training_frame",
        "feature_catalog",
        "PropensityModel",
        "evaluate",
        "explain",
        "load_model",
        "CustomerSegmenter",
        "load_rules",
        "build_portraits",
    ]:
        assert name in powerprofile.__all__
    assert callable(powerprofile.load_tables)
    assert "errors" in inspect.signature(powerprofile.load_tables).parameters


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        powerprofile.nope  # noqa: B018


@pytest.mark.parametrize("modname", SUBPACKAGES)
def test_subpackage_all_is_complete(modname):
    module = importlib.import_module(modname)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{modname} has no __all__"
    for name in exported:
        assert hasattr(module, name), f"{modname}.__all__ names missing {name!r}"
    # every public function or class defined in the package is exported
    public = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", "").startswith(modname)
    }
    assert public <= set(exported), f"{modname}: not in __all__: {sorted(public - set(exported))}"
