"""Reading delimited text files (CSV, TSV, ``::``) with errors that say what to do.

Used by :func:`recsys_tutorial.data.read_ratings_csv`.

* :func:`read_delimited` reads a file, id columns as text.
* :func:`layout_hint` explains missing columns: another separator, or no header row.
* :func:`unknown_arguments_error` names unknown keyword arguments and the accepted ones.
"""

from __future__ import annotations

import codecs
import csv
import difflib
from pathlib import Path

import pandas as pd

from .cleaning import looks_numeric
from .errors import ConfigError, DataFileError

#: Cells read as missing outside the id columns (in id columns only the empty cell is).
NA_TEXT = ["", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "null", "NULL", "None", "<NA>"]


def read_delimited(
    path: Path,
    *,
    sep: str = ",",
    names: list[str] | None = None,
    encoding: str = "utf-8",
    header: int | str | None = "infer",
    text_columns: list = (),
) -> pd.DataFrame:
    """The delimited text file ``path`` as a frame, ``text_columns`` read as text.

    ``sep`` longer than one character is a regular expression (pandas' Python engine);
    ``names`` names the columns of a file without a header row. Text columns keep every
    cell as written ("NA" included; only the empty cell is missing); in the other columns
    the cells of :data:`NA_TEXT` are missing. Raises :class:`DataFileError` for a file that
    cannot be decoded (suggesting ``encoding="latin-1"``), parsed or read, and
    :class:`ConfigError` for an unknown encoding or options pandas refuses.
    """
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ConfigError(
            f"{path}: unknown encoding {encoding!r}; pass e.g. encoding='utf-8' or 'latin-1'"
        ) from None
    text_columns = list(text_columns)
    options: dict = dict(
        sep=sep, names=names, header=header, encoding=encoding, index_col=False,
        dtype={c: str for c in text_columns}, keep_default_na=False,
    )  # fmt: skip
    if isinstance(sep, str) and len(sep) > 1:
        options["engine"] = "python"
    shown = "UTF-8" if codec == "utf-8" else encoding
    try:
        columns = pd.read_csv(path, nrows=0, **options).columns  # the header only
        na_values = {c: NA_TEXT for c in columns if c not in text_columns}
        return pd.read_csv(path, na_values=na_values, **options)
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path}: not {shown} text ({exc}); pass encoding='latin-1' (or the file's "
            "encoding), or re-save it as UTF-8"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataFileError(f"{path}: not a readable CSV ({exc})") from exc
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc})") from exc
    except (ValueError, TypeError) as exc:  # e.g. repeated names, a sep that is not text
        raise ConfigError(
            f"{path}: cannot be read with sep={sep!r}, names={names!r}, header={header!r} ({exc})"
        ) from exc


def separator_hint(cells: pd.Series, *, sep: str) -> str:
    """A hint naming the separator that the text ``cells`` hold, if not ``sep`` ('' if none)."""
    text = " ".join(str(c) for c in cells.head(20).tolist())
    found = next((s for s in ("::", "\t", ";", "|", ",") if s != sep and s in text), None)
    return f" The file looks separated by {found!r}; pass sep={found!r}." if found else ""


def layout_hint(frame: pd.DataFrame, *, sep: str, wanted: list) -> str:
    """Why the ``wanted`` columns may be missing from ``frame`` ('' when no reason shows):
    a single column whose name holds another separator, or a header row that looks like data.
    """
    cells = [str(c) for c in frame.columns]
    hint = ""
    if len(cells) == 1:
        found = next((s for s in ("::", "\t", ";", "|", ",") if s != sep and s in cells[0]), None)
        if found:
            hint = f" The file looks separated by {found!r}; pass sep={found!r}."
            cells = cells[0].split(found)
    if cells and all(looks_numeric(c) for c in cells):
        hint += (
            " Its first line looks like data: the file has no header row; pass "
            f"names={wanted!r} (in the file's column order)."
        )
    return hint


def unknown_arguments_error(
    function: str, unknown: dict, accepted: list[str], aliases: dict[str, str] | None = None
) -> ConfigError:
    """A :class:`ConfigError` naming the ``unknown`` keyword arguments of ``function``, a
    likely meant one for each (from ``aliases`` or by spelling) and the ``accepted`` ones."""
    hints = []
    for arg in sorted(unknown):
        guess = (aliases or {}).get(arg) or next(
            iter(difflib.get_close_matches(arg, accepted, n=1)), None
        )
        if guess:
            hints.append(f"{arg}= -> {guess}=")
    return ConfigError(
        f"{function}: unknown argument(s) {sorted(unknown)}"
        + (f" (did you mean {', '.join(hints)}?)" if hints else "")
        + f"; accepted: {accepted}"
    )
