"""Notebook helpers: the setup cell's environment report and numbers glued into the text.

``record("test_rmse", 0.91)`` stores a number in the executed notebook (via myst-nb's
``glue``) so the prose can quote it with ``{glue:text}`test_rmse:.3f``` and
``tests/test_book.py`` can check it against loose bounds. Values are never typed by hand.
"""

from __future__ import annotations

import json
import platform
from typing import Any

from .errors import ConfigError

RECORDED: dict[str, Any] = {}


def print_environment() -> dict[str, str]:
    """Print (and return) Python, library versions, the device and the profile in use."""
    import warnings

    with warnings.catch_warnings():  # tqdm's "IProgress not found" notice is noise here
        warnings.simplefilter("ignore")
        import numpy
        import pandas
        import sklearn
        import torch
        import transformers

    from .config import get_device, get_profile

    try:
        import peft

        peft_version = peft.__version__
    except ImportError:  # pragma: no cover - peft is a dependency
        peft_version = "not installed"
    device = get_device()
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft_version,
        "scikit-learn": sklearn.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "device": str(device) + (f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""),
        "cpu threads": str(torch.get_num_threads()),
        "profile": get_profile().name,
    }
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return info


def record(name: str, value: Any, *, display: bool = False) -> Any:
    """Keep ``value`` under ``name`` for the text ({glue:text}) and the notebook tests; return it."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    RECORDED[name] = value
    try:
        from myst_nb import glue
    except ImportError:  # outside the book build: just keep it
        return value
    glue(name, value, display=display)
    return value


#: Cell padding of the book's styled tables: without it, a pandas Styler's HTML runs the
#: numbers of adjacent columns together ("0.81340.86300.8678").
TABLE_STYLES = [{"selector": "td, th", "props": "padding: 0 0.6em;"}]


def padded(table: Any, formats: Any = None, *, na_rep: str = "–") -> Any:
    """A pandas ``Styler`` with padded cells, for tables a notebook shows on purpose.

    ``table`` is a DataFrame (formatted with ``formats``: one format string such as
    ``"{:.3f}"``, a ``{column: format}`` dict or a callable, see ``Styler.format``; missing
    values shown as ``na_rep``) or an existing ``Styler`` (its formats are kept; ``formats``,
    when given, is applied on top). Use ``"{:.0e}"`` or ``"{:g}"`` for columns such as learning
    rates, which a fixed number of decimals rounds to 0.0. Returns the Styler, whose HTML pads
    every cell by ``TABLE_STYLES``. Raises ConfigError when ``table`` is neither (e.g. a
    Series: call ``.to_frame()`` first).
    """
    styler = table.style if hasattr(table, "style") else table
    if not hasattr(styler, "set_table_styles"):
        raise ConfigError(
            f"padded(table=...) needs a pandas DataFrame or Styler, got {type(table).__name__}; "
            "turn a Series into a table with .to_frame()"
        )
    if formats is not None or styler is not table:
        styler = styler.format(formats, na_rep=na_rep)
    return styler.set_table_styles(TABLE_STYLES, overwrite=False)


def recorded_values(notebook_path: str) -> dict[str, Any]:
    """The values ``record`` stored in an executed notebook file (used by the book tests).

    Reads myst-nb glue outputs (``metadata.scrapbook.name``, data under the
    ``application/papermill.record/`` prefix when glued with ``display=False``, plain
    ``text/plain`` otherwise) and turns their ``repr`` back into Python values: numbers,
    booleans, ``None``, strings, lists, dicts; ``nan``/``inf`` as floats. Anything else is
    returned as its text. A name recorded twice keeps its last value.
    """
    import ast

    with open(notebook_path, encoding="utf-8") as fh:
        nb = json.load(fh)
    prefix = "application/papermill.record/"
    values: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            name = scrapbook.get("name") if isinstance(scrapbook, dict) else None
            if not name:
                continue
            data = out.get("data", {})
            mime_prefix = scrapbook.get("mime_prefix", prefix)
            text = data.get(mime_prefix + "text/plain", data.get(prefix + "text/plain", data.get("text/plain")))
            if text is None:
                continue
            text = "".join(text) if isinstance(text, list) else str(text)
            values[name] = _parse_repr(text, ast)
    return values


def _parse_repr(text: str, ast_module: Any) -> Any:
    stripped = text.strip()
    try:
        return ast_module.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    inner = stripped
    if inner.startswith(("np.", "numpy.")) and inner.endswith(")") and "(" in inner:
        inner = inner[inner.index("(") + 1 : -1]  # np.float64(0.5) -> 0.5
        try:
            return ast_module.literal_eval(inner)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    try:
        return float(inner)  # nan, inf, -inf
    except ValueError:
        return text
