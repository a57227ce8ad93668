"""Governed export of portraits to the service channels (see ``docs/export.md``).

Campaigns select customers from the portraits, rank them by a calibrated score and
fill each channel's capacity; every file obeys channel eligibility, opt-out and
do-not-contact lists, a frequency cap and the PII policy, and the whole export is
published with a ``manifest.json`` into a folder the job owns (:func:`output_folder`),
leaving files it did not write alone; CSV cells are safe to open in a spreadsheet.
"""

from ._atomic import atomic_directory, fsync_tree, recover_directory
from ._campaigns import CHANNELS, OUTBOUND_CHANNELS, Campaign, CampaignSet, load_campaigns
from ._control import (
    CONTROL_COLUMNS,
    CONTROL_FILE,
    CONTROL_RULE,
    assign_control,
    campaign_id,
    control_draw,
    split_control,
)
from ._dictionary import DICTIONARY_COLUMNS, build_dictionary, build_readme, describe_column
from ._export import (
    BAND_RULE,
    CHANNEL_RULE,
    DICTIONARY_FILE,
    EXPORT_SCHEMA_VERSION,
    MEMBERSHIP_FILE,
    README_FILE,
    REASON_RULE,
    ExportResult,
    eligibility,
    export_campaigns,
    read_contact_list,
    read_export,
)
from ._folders import MARKER, OutputFolder, check_output_path, output_folder
from ._schema import EXPORT_TYPES, canonical_types, column_type, pandas_types
from ._select import Selection, compile_selection
from ._streamed import candidate_limits, export_campaigns_streamed
from ._writers import EXTENSIONS, FORMULA_TRIGGERS, file_sha256, read_frame, write_frame

__all__ = [
    "BAND_RULE",
    "CHANNELS",
    "CHANNEL_RULE",
    "CONTROL_COLUMNS",
    "CONTROL_FILE",
    "CONTROL_RULE",
    "DICTIONARY_COLUMNS",
    "DICTIONARY_FILE",
    "EXPORT_SCHEMA_VERSION",
    "EXPORT_TYPES",
    "EXTENSIONS",
    "FORMULA_TRIGGERS",
    "MARKER",
    "MEMBERSHIP_FILE",
    "OUTBOUND_CHANNELS",
    "README_FILE",
    "REASON_RULE",
    "OutputFolder",
    "Campaign",
    "CampaignSet",
    "ExportResult",
    "Selection",
    "assign_control",
    "atomic_directory",
    "build_dictionary",
    "build_readme",
    "campaign_id",
    "candidate_limits",
    "canonical_types",
    "check_output_path",
    "column_type",
    "compile_selection",
    "control_draw",
    "describe_column",
    "eligibility",
    "export_campaigns",
    "export_campaigns_streamed",
    "file_sha256",
    "fsync_tree",
    "load_campaigns",
    "output_folder",
    "pandas_types",
    "read_contact_list",
    "read_export",
    "read_frame",
    "recover_directory",
    "split_control",
    "write_frame",
]
