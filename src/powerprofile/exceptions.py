"""Exceptions raised by powerprofile.

Every class subclasses a built-in so that callers who do not know this library can
still catch the familiar type::

    PowerProfileError (Exception)
    ├── DataValidationError (PowerProfileError, ValueError)
    │   │   input tables break the data contract (strict mode)
    │   ├── UnknownCampaignError (DataValidationError)
    │   │       a response names a campaign id no given export manifest holds
    │   └── CustomerNotInExportError (DataValidationError)
    │           a response names a customer who was not in that campaign's export
    ├── ConfigError (PowerProfileError, ValueError)
    │   │   a YAML config or rule file is malformed, has unknown keys or wrong types
    │   └── PseudonymKeyError (ConfigError)
    │           the pseudonymisation key is missing or too weak
    ├── FeatureMismatchError (PowerProfileError, ValueError)
    │       a frame given to a fitted model lacks, adds or retypes its features
    ├── NotFittedError (PowerProfileError, sklearn.exceptions.NotFittedError)
    │       an estimator is used before ``fit``
    ├── ArtefactError (PowerProfileError, ValueError)
    │       a saved model or segmenter is not an intact artefact written by powerprofile
    ├── TrackingError (PowerProfileError, RuntimeError)
    │       the MLflow tracking server or registry cannot be reached or used
    ├── ExportError (PowerProfileError, RuntimeError)
    │       an export could not be written; the previous export is left intact
    └── OutputDirError (PowerProfileError, OSError)
        │   an output folder is refused: not created by powerprofile and not empty,
        │   the working folder, home or the file-system root
        └── OutputDirBusyError (OutputDirError)
                another job holds the output folder's lock

Messages name the thing with ``!r``, show the value received and say how to fix it.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SkNotFittedError

__all__ = [
    "ArtefactError",
    "ConfigError",
    "DataValidationError",
    "ExportError",
    "FeatureMismatchError",
    "NotFittedError",
    "OutputDirBusyError",
    "OutputDirError",
    "PowerProfileError",
    "PseudonymKeyError",
    "TrackingError",
    "UnknownCampaignError",
    "CustomerNotInExportError",
]


class PowerProfileError(Exception):
    """Base class of every error raised on purpose by powerprofile."""


class DataValidationError(PowerProfileError, ValueError):
    """Input tables break the data contract.

    Parameters
    ----------
    message : str
        Human-readable summary listing every problem.
    problems : pandas.DataFrame or None, default=None
        One row per problem (table, column, check, n_rows, examples), the same
        content as the message in tabular form.
    """

    def __init__(self, message: str, problems=None):
        super().__init__(message)
        self.problems = problems


class UnknownCampaignError(DataValidationError):
    """A response names a campaign id that none of the given export manifests holds."""


class CustomerNotInExportError(DataValidationError):
    """A response names a customer who was neither treated nor control in that campaign."""


class ConfigError(PowerProfileError, ValueError):
    """A configuration or rule file is malformed."""


class PseudonymKeyError(ConfigError):
    """The pseudonymisation key (``POWERPROFILE_PSEUDONYM_KEY``) is missing or too weak.

    A configuration error (CLI exit code 2); the message says how to make a key.
    """


class FeatureMismatchError(PowerProfileError, ValueError):
    """A frame given to a fitted model does not match the features it was fitted on."""


class NotFittedError(PowerProfileError, _SkNotFittedError):
    """An estimator was used before ``fit``."""


class ArtefactError(PowerProfileError, ValueError):
    """A saved model or segmenter is not an intact artefact written by powerprofile.

    Raised before anything is unpickled when the metadata is missing, foreign, of
    another kind or class, unsigned or wrongly signed while a key is set, or when the
    file does not match its checksum; and during a restricted load when the pickle
    refers to anything an artefact never needs.
    """


class TrackingError(PowerProfileError, RuntimeError):
    """MLflow tracking or the model registry could not be used."""


class ExportError(PowerProfileError, RuntimeError):
    """An export could not be completed; the previous export is untouched."""


class OutputDirError(PowerProfileError, OSError):
    """An output folder is refused; nothing was written or deleted in it."""


class OutputDirBusyError(OutputDirError):
    """Another job (named in the message) is writing to the same output folder."""
