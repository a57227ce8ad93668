"""Stable hash partitioning of customers (public as ``powerprofile.partition_of``).

The same function decides which partition a customer's rows live in when data is
written (generator, clustered Parquet), which part the reader checks each row is in,
and which partition a feature task reads, so that one partition's rows in gives one
partition's features out. This module is its one definition; ``powerprofile`` and
``powerprofile.schema`` export it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.util import hash_array

__all__ = ["partition_of"]


def partition_of(customer_ids, n_partitions: int) -> np.ndarray:
    """Return the partition number (0 .. n_partitions-1) of each customer id.

    Stable across processes, machines and library versions that keep pandas'
    ``hash_array`` (SipHash with a fixed key); independent of row order.

    Parameters
    ----------
    customer_ids : array-like of str
        Customer identifiers.
    n_partitions : int
        Number of partitions, at least 1.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> import powerprofile as pp
    >>> pp.partition_of(["C0000001", "C0000002"], 4).tolist()
    [0, 1]
    """
    if int(n_partitions) < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions!r}")
    values = np.asarray(pd.Series(customer_ids, dtype="string").to_numpy(dtype=object))
    return (hash_array(values, categorize=True) % np.uint64(n_partitions)).astype(np.int64)
