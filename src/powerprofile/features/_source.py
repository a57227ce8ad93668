"""Where a partition's rows come from: moved to :mod:`powerprofile.schema`.

Reading, with validation, belongs to ``schema``; this name stays importable from here
for older code. Import :class:`powerprofile.schema.DataSource` instead.
"""

from ..schema._source import DataSource

__all__ = ["DataSource"]
