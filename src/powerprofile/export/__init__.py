"""Governed export of portraits to the service channels (see ``docs/export.md``).

Campaigns select customers from the portraits, rank them by a calibrated score and
fill each channel's capacity; every file obeys channel eligibility, opt-out and
do-not-contact lists, a frequency cap and the PII policy, and the whole export is
published with a ``manifest.json`` into a folder the job owns (:func:`output_folder`),
leaving files it did not write alone; CSV cells are safe to open in a spreadsheet.
"""

from ._atomic import atomic_directory, fsync_tree, recover_directory
from ._campaigns import CHANNELS, Campaign, CampaignSet, load_campaigns
from ._export import (
    EXPORT_SCHEMA_VERSION,
    MEMBERSHIP_FILE,
    ExportResult,
    eligibility,
    export_campaigns,
    read_export,
)
from ._folders import MARKER, OutputFolder, check_output_path, output_folder
from ._select import Selection, compile_selection
from ._writers import EXTENSIONS, FORMULA_TRIGGERS, file_sha256, read_frame, write_frame

__all__ = [
    "CHANNELS",
    "EXPORT_SCHEMA_VERSION",
    "EXTENSIONS",
    "FORMULA_TRIGGERS",
    "MARKER",
    "MEMBERSHIP_FILE",
    "OutputFolder",
    "Campaign",
    "CampaignSet",
    "ExportResult",
    "Selection",
    "atomic_directory",
    "check_output_path",
    "compile_selection",
    "eligibility",
    "export_campaigns",
    "file_sha256",
    "fsync_tree",
    "load_campaigns",
    "output_folder",
    "read_export",
    "read_frame",
    "recover_directory",
    "write_frame",
]
