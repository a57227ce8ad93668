"""What a spreadsheet does to a text cell it opens: the numeric, date and boolean coercions.

Excel, LibreOffice and Google Sheets read a CSV cell as a number when it parses as one
(``123``, ``1E5``, ``5353E258`` -> 5.353E+261, ``1,234``, ``12%``, ``(12)``), as a date
or time (``12-03``, ``3/4``, ``2024-01-01``, ``12:30``, ``Mar-12``), or as a boolean
(``TRUE``); a number of more than 15 digits also loses its tail. A cell none of these
rules applies to stays text, unchanged.
"""

import re

_NUMBER = re.compile(r"^\s*[-+]?\(?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\)?\s*%?\s*$")
_DATE = re.compile(r"^\s*\d{1,4}\s*[-/.]\s*\d{1,2}(?:\s*[-/.]\s*\d{1,4})?\s*$")
_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[aApP][mM])?\s*$")
_MONTH = re.compile(
    r"^\s*(?:\d{1,2}[-/ ])?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:[-/ ]\d{1,4})?\s*$",
    re.IGNORECASE,
)
_BOOL = {"true", "false"}


def coerced(cell: str) -> bool:
    """Whether a spreadsheet would read ``cell`` as something other than its text."""
    for convert in (int, float):
        try:
            convert(cell)
            return True
        except ValueError:
            pass
    if cell.strip().lower() in _BOOL:
        return True
    return any(p.match(cell) for p in (_NUMBER, _DATE, _TIME, _MONTH))
