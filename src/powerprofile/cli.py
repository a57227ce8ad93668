"""Command-line interface (``powerprofile``)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    """Entry point of the ``powerprofile`` command."""
    print("powerprofile: the command-line interface is not available yet", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
