"""Customer segmentation: robust KMeans segments with names and stable ids."""

from ._naming import FEATURE_WORDS, describe_feature
from ._segmenter import DEFAULT_SEGMENT_FEATURES, CustomerSegmenter
from ._transitions import same_segment_share, transition_table

__all__ = [
    "DEFAULT_SEGMENT_FEATURES",
    "FEATURE_WORDS",
    "CustomerSegmenter",
    "describe_feature",
    "same_segment_share",
    "transition_table",
]
