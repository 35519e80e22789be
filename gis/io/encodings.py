"""Text-encoding detection for Japanese open data: UTF-8 (with or without BOM) or CP932."""

from __future__ import annotations

import re

from gis.errors import Problem

__all__ = ["detect_text_encoding", "dbf_encoding"]

# Python's cp932 maps the unused bytes 0xFD-0xFF and the user-defined area to the private use
# area: no open data uses them, so they mean "not really CP932"
_PUA_RE = re.compile("[\ue000-\uf8ff]")
_UNKNOWN = "unknown text encoding: neither UTF-8 nor CP932 (Shift_JIS)"


def _byte_where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"row {line} (byte {offset})"


def detect_text_encoding(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """Detect UTF-8 (with or without BOM) or CP932 (Shift_JIS) for Japanese text bytes.

    Parameters
    ----------
    data : bytes
        The whole text.
    file : str
        Named in the problems.

    Returns
    -------
    (encoding, problems) : tuple
        ``"utf-8-sig"``, ``"utf-8"`` or ``"cp932"``; problems is non-empty when neither decodes.

    Examples
    --------
    >>> detect_text_encoding("避難所".encode("cp932"), "x.csv")
    ('cp932', [])
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data.decode("utf-8-sig")
            return "utf-8-sig", []
        except UnicodeDecodeError as exc:
            return "utf-8-sig", [Problem(file, _byte_where(data, exc.start), "bad UTF-8 after BOM")]
    try:
        data.decode("utf-8")
        return "utf-8", []
    except UnicodeDecodeError as utf_exc:
        try:
            text = data.decode("cp932")
        except UnicodeDecodeError:
            return "unknown", [Problem(file, _byte_where(data, utf_exc.start), _UNKNOWN)]
        pua = _PUA_RE.search(text)
        if pua is None:
            return "cp932", []
        offset = len(text[: pua.start()].encode("cp932"))
        return "unknown", [Problem(file, _byte_where(data, offset), _UNKNOWN)]


def dbf_encoding(dbf: bytes, file: str) -> tuple[str, list[Problem]]:
    """The attribute encoding of a Shapefile's ``.dbf`` (its records after the header)."""
    header_len = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else 0
    enc, problems = detect_text_encoding(dbf[header_len:], file)
    if problems:
        problems = [Problem(file, None, "unknown attribute encoding: neither UTF-8 nor CP932")]
    return ("utf-8" if enc == "utf-8-sig" else enc), problems
