"""Synthetic utility data with ground truth.

A seeded, vectorised generator of an electricity utility's customers and their
histories (usage, bills, payments, service contacts, outages, churn events), driven by
latent archetypes and by daily churn and complaint hazards whose true values are kept
as ground truth, so that models and segmentations can be scored against the oracle.
"""

from ._archetypes import ARCHETYPE_NAMES, archetype_table
from ._generate import GENERATOR, make_utility_data, write_sample, write_utility_data
from ._org import load_org_truth
from ._simulate import DRIVER_NAMES
from ._truth import GroundTruth, load_ground_truth

__all__ = [
    "ARCHETYPE_NAMES",
    "DRIVER_NAMES",
    "GENERATOR",
    "GroundTruth",
    "archetype_table",
    "load_ground_truth",
    "load_org_truth",
    "make_utility_data",
    "write_sample",
    "write_utility_data",
]
