"""Closing the loop: campaign responses, measured effects, uplift models, next-best-channel.

Every campaign export holds out a randomised control group
(:mod:`powerprofile.export`); the ``responses`` the channel systems return are joined
to the exports they answer (:func:`ingest_outcomes`); :func:`campaign_effects`
measures each campaign's effect per channel, segment, score band and region with
Newcombe intervals and a false-discovery-rate control; :class:`UpliftModel` learns the
effect of each channel on each customer from randomised campaigns, and
:func:`next_best_channel` gives each customer the channel that helps most under the
contact policy (eligibility, opt-outs, capacities, frequency cap).
"""

from ._effects import (
    BREAKDOWNS,
    benjamini_hochberg,
    campaign_effects,
    effect_table,
    newcombe_interval,
    wilson_interval,
)
from ._inputs import iter_uplift_inputs, scoring_feature_names, uplift_inputs
from ._metrics import qini_coefficient, qini_curve, saved_per_1000
from ._model import UpliftModel, uplift_features
from ._outcomes import OUTCOME_COLUMNS, OUTCOMES, campaign_members, ingest_outcomes, pilot_outcomes
from ._policy import next_best_channel, score_targeting
from ._stage import run_uplift_stage, simulate_export_responses

__all__ = [
    "BREAKDOWNS",
    "OUTCOMES",
    "OUTCOME_COLUMNS",
    "UpliftModel",
    "benjamini_hochberg",
    "campaign_effects",
    "campaign_members",
    "effect_table",
    "ingest_outcomes",
    "iter_uplift_inputs",
    "newcombe_interval",
    "next_best_channel",
    "pilot_outcomes",
    "qini_coefficient",
    "qini_curve",
    "run_uplift_stage",
    "saved_per_1000",
    "score_targeting",
    "scoring_feature_names",
    "simulate_export_responses",
    "uplift_features",
    "uplift_inputs",
    "wilson_interval",
]
