"""Progress bars: one rule for when they are drawn.

``progress=True`` (the config key ``progress`` and the ``progress`` parameters of the
library) means *when someone can see it*: a bar is drawn on a terminal or in a
Jupyter notebook, never into a log file, a pipe or a scheduler's captured stderr,
where it would only add noise. ``progress=False`` never draws one.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "progress_visible"]


def progress_visible(progress: bool = True) -> bool:
    """Whether a progress bar would be drawn now.

    Parameters
    ----------
    progress : bool, default=True
        The caller's wish; False is always False.

    Returns
    -------
    bool
        True when ``progress`` is true and stderr is a terminal or a notebook
        displays the bar.
    """
    if not progress:
        return False
    from tqdm.auto import tqdm

    if any(base.__module__ == "tqdm.notebook" for base in tqdm.__mro__):
        return True  # a notebook draws a widget, not text on stderr
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress_bar(iterable=None, *, progress: bool = True, **kwargs):
    """A tqdm bar that is drawn only when someone can see it (see :func:`progress_visible`).

    Parameters
    ----------
    iterable : iterable or None, default=None
        What to iterate over (None: a manual bar updated with ``update``).
    progress : bool, default=True
        False never draws the bar.
    **kwargs
        Passed to ``tqdm`` (``desc``, ``total``, ``unit``, ``leave`` ...).

    Returns
    -------
    tqdm.tqdm
        A bar, disabled when not visible (it still iterates and counts).
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not progress_visible(progress), **kwargs)
