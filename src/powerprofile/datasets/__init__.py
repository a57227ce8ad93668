"""Synthetic utility data with ground truth.

A seeded, vectorised generator of an electricity utility's customers and their
histories (usage, bills, payments, service contacts, outages, churn events), driven by
latent archetypes and by daily churn and complaint hazards whose true values are kept
as ground truth, so that models and segmentations can be scored against the oracle.
Two drivers interact with customer attributes, so an additive model misses part of the
truth: outage exposure weighs most on businesses with a time-of-use tariff and little on
households, a bill shock only on high-usage customers (see ``_simulate``).
"""

from ._archetypes import ARCHETYPE_NAMES, archetype_table
from ._generate import GENERATOR, make_utility_data, write_sample, write_utility_data
from ._org import load_org_truth
from ._simulate import DRIVER_NAMES
from ._truth import GroundTruth, load_ground_truth
from ._uplift import (
    CAMPAIGN_CHANNELS,
    PILOT_WAVES,
    simulate_pilot,
    simulate_responses,
    true_effects,
    write_campaign_truth,
)

__all__ = [
    "ARCHETYPE_NAMES",
    "CAMPAIGN_CHANNELS",
    "DRIVER_NAMES",
    "GENERATOR",
    "GroundTruth",
    "PILOT_WAVES",
    "archetype_table",
    "load_ground_truth",
    "load_org_truth",
    "make_utility_data",
    "simulate_pilot",
    "simulate_responses",
    "true_effects",
    "write_campaign_truth",
    "write_sample",
    "write_utility_data",
]
