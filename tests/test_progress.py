"""Progress bars are drawn only where someone can see them."""

import io

import pytest

from powerprofile._progress import progress_bar, progress_visible


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("stream", "progress", "drawn"),
    [
        (_Terminal(), True, True),
        (_Terminal(), False, False),
        (io.StringIO(), True, False),  # a log file, a pipe, a scheduler's capture
    ],
)
def test_bars_need_a_terminal_and_the_wish(monkeypatch, stream, progress, drawn):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr("sys.stderr", stream)
    assert progress_visible(progress) is drawn
    bar = progress_bar(range(3), progress=progress, desc="work")
    assert list(bar) == [0, 1, 2]  # a hidden bar still iterates
    bar.close()
    assert ("work" in stream.getvalue()) is drawn


class _Closed(io.StringIO):
    def isatty(self):
        raise ValueError("I/O operation on closed file")


def test_a_closed_stderr_draws_nothing(monkeypatch):
    monkeypatch.setattr("sys.stderr", _Closed())
    assert progress_visible(True) is False
