import inspect

import powerprofile
import powerprofile.explain as explain_pkg
import powerprofile.models as models_pkg


def _public(module):
    return {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and getattr(v, "__module__", "").startswith(module.__name__)
    }


def test_all_complete_and_importable():
    for pkg in (models_pkg, explain_pkg):
        assert sorted(pkg.__all__) == sorted(set(pkg.__all__))
        assert _public(pkg) <= set(pkg.__all__), _public(pkg) - set(pkg.__all__)
        for name in pkg.__all__:
            assert hasattr(pkg, name)


def test_top_level_names():
    assert powerprofile.PropensityModel is models_pkg.PropensityModel
    assert powerprofile.evaluate is models_pkg.evaluate
    assert powerprofile.load_model is models_pkg.load_model
    # the subpackage shadows the lazy top-level function; calling it still explains
    assert callable(powerprofile.explain)


def test_top_level_explain_callable(fitted, panel):
    X = panel[0].head(20)
    a = powerprofile.explain(fitted, X, top_k=2)
    b = explain_pkg.explain(fitted, X, top_k=2)
    assert a.equals(b)
