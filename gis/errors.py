"""Errors raised by the GIS layer."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "DataImportError", "CacheMissingError"]


@dataclass(frozen=True)
class Problem:
    """One problem in an input file.

    Attributes
    ----------
    file : str
        The file (or URL) that holds the problem.
    where : str or None
        "row 12" (CSV line number, header = line 1), "feature 3" (0-based) or None for the file.
    message : str
        What is wrong, in plain words.
    """

    file: str
    where: str | None
    message: str

    def __str__(self) -> str:
        loc = f"{self.file}: {self.where}" if self.where else self.file
        return f"{loc}: {self.message}"


class DataImportError(Exception):
    """The import was refused; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem], limit: int = 20):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:limit])
        more = len(self.problems) - limit
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(f"import refused, {len(self.problems)} problem(s):\n{shown}")


class CacheMissingError(FileNotFoundError):
    """No imported GIS cache at the given folder (run ``bosai data import``)."""
