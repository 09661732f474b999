"""Turning items and rating histories into short texts a language model reads (chapter 3).

A training example is a pair of texts plus a number:

* the **history**: what the user rated before, most recent first, e.g.
  ``"Toy Story 5.0; Heat 4.0; Alien 3.5"`` (``NO_HISTORY`` for a user with no earlier ratings,
  so a new user falls back to the item's own information);
* the **candidate**: the item to rate, e.g. ``"Toy Story (1995) | Adventure, Animation, Comedy"``;
* the **rating** to predict.

Every template is a plain function passed as an argument (``item_template=``,
``entry_template=``), so you can swap the wording without touching the pipeline. Keep texts
short: on a CPU the cost of a step grows faster than linearly with the number of tokens, so
short prompts are the biggest speed win (chapter 5).

Ids (users, items) of any hashable kind are kept exactly as given: ``{item id: text}``
dictionaries are keyed by the catalogue's own ids (``1``, ``"007"``, ``"tt0114709"``), and the
pairs table carries the targets' ids unchanged. Implicit feedback (a context without a rating
column) gives history entries without a rating (``entry_template(title, None)``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError, SchemaError, UnknownItemError
from .leakage import time_values
from .schema import (
    GENRES_COL,
    IMPLICIT_ATTR,
    ITEM_COL,
    RATING_COL,
    SCALE_ATTR,
    TIME_COL,
    TITLE_COL,
    USER_COL,
    YEAR_COL,
    id_repr,
)

#: The history text of a user with no earlier ratings (chapter 3: the cold-start fallback).
NO_HISTORY = "new user, no ratings yet"
#: Separator between history entries.
HISTORY_SEPARATOR = "; "

ItemTemplate = Callable[..., str]
EntryTemplate = Callable[[str, "float | None"], str]


def _ids_shown(ids: Iterable[object], limit: int = 5) -> str:
    return ", ".join(id_repr(i) for i in list(ids)[:limit])


def _check_count(name: str, value: object) -> int:
    """``value`` (Python or NumPy integer) as an int >= 0, or a :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- items


def item_text(
    title: str,
    year: int | None = None,
    genres: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> str:
    """The default candidate template (ch.3): ``"Title (year) | genre, genre | tags: a, b"``.

    Missing parts are left out: ``item_text("Heat")`` is ``"Heat"``.
    """
    text = str(title).strip()
    if year is not None and not pd.isna(year):
        text += f" ({int(year)})"
    genres = [g for g in (genres if isinstance(genres, (list, tuple)) else list(genres or ())) if g]
    if genres:
        text += " | " + ", ".join(genres)
    tags = [t for t in tags if t]
    if tags:
        text += " | tags: " + ", ".join(tags)
    return text


def top_tags(
    tags: pd.DataFrame | None, max_tags: int, item_col: str = ITEM_COL
) -> dict[Hashable, list[str]]:
    """``{item id: its max_tags most frequent tags}`` (lower-cased, ties alphabetical).

    Item ids are the ``tags`` frame's own, kept exactly (items in order of first appearance).
    Raises :class:`SchemaError` when ``tags`` lacks ``item_col`` or ``tag``.
    """
    max_tags = _check_count("max_tags", max_tags)
    if tags is None or max_tags == 0 or len(tags) == 0:
        return {}
    if item_col not in tags.columns or "tag" not in tags.columns:
        raise SchemaError(f"tags: need columns {item_col!r} and 'tag'; found {list(tags.columns)}")
    codes, items = pd.factorize(tags[item_col], sort=False)
    frame = pd.DataFrame(
        {"item": codes, "tag": tags["tag"].astype(str).str.strip().str.lower().to_numpy(object)}
    )
    counts = frame.groupby(["item", "tag"]).size().reset_index(name="n")
    counts = counts.sort_values(["item", "n", "tag"], ascending=[True, False, True])
    top = counts.groupby("item").head(max_tags)
    keys = items.tolist()  # Python ints / strings, exactly the ids given
    return {keys[int(code)]: list(g["tag"]) for code, g in top.groupby("item", sort=True)}




def item_texts(
    movies: pd.DataFrame,
    tags: pd.DataFrame | None = None,
    *,
    max_tags: int = 0,
    template: ItemTemplate = item_text,
    item_col: str = ITEM_COL,
    title_col: str = TITLE_COL,
    year_col: str = YEAR_COL,
    genres_col: str = GENRES_COL,
) -> dict[Hashable, str]:
    """``{item id: candidate text}`` for a catalogue (ch.3), optionally with its top tags.

    Keys are the catalogue's ids exactly as given (ints stay ints, ``"007"`` stays a string),
    in catalogue order. ``template(title, year, genres, tags)`` builds each text (default
    :func:`item_text`); ``max_tags`` > 0 adds that many of the item's most frequent user tags.
    """
    max_tags = _check_count("max_tags", max_tags)
    for col in (item_col, title_col):
        if col not in movies.columns:
            raise SchemaError(f"movies: missing column {col!r}; found {list(movies.columns)}")
    top = top_tags(tags, max_tags, item_col) if tags is not None else {}
    ids = movies[item_col].tolist()
    titles = movies[title_col].fillna("").astype(str).tolist()
    years = movies[year_col].to_numpy() if year_col in movies.columns else [None] * len(movies)
    genres = movies[genres_col].to_numpy() if genres_col in movies.columns else [()] * len(movies)
    out: dict[Hashable, str] = {}
    for i, title, year, gen in zip(ids, titles, years, genres, strict=True):
        gen = gen if isinstance(gen, (list, tuple, np.ndarray)) else ([] if pd.isna(gen) else str(gen).split("|"))
        out[i] = template(title, None if pd.isna(year) else int(year), list(gen), top.get(i, []))
    return out


def item_titles(
    movies: pd.DataFrame, *, item_col: str = ITEM_COL, title_col: str = TITLE_COL
) -> dict[Hashable, str]:
    """``{item id: title}`` (ids kept exactly, missing titles as ``""``): what histories show."""
    for col in (item_col, title_col):
        if col not in movies.columns:
            raise SchemaError(f"movies: missing column {col!r}; found {list(movies.columns)}")
    titles = movies[title_col].fillna("").astype(str).tolist()
    return dict(zip(movies[item_col].tolist(), titles, strict=True))


# --------------------------------------------------------------------------- histories


def entry_text(title: str, rating: float | None) -> str:
    """One history entry (ch.3): ``"Toy Story 5.0"`` (the rating with one decimal).

    ``rating=None`` (implicit feedback: the user watched or clicked it) gives the title alone.
    """
    if rating is None:
        return str(title)
    return f"{title} {float(rating):.1f}"


def history_text(
    entries: Sequence[tuple[str, float | None]],
    *,
    max_items: int = 6,
    entry_template: EntryTemplate = entry_text,
    separator: str = HISTORY_SEPARATOR,
    empty: str = NO_HISTORY,
) -> str:
    """A user's history as one short text (ch.3), entries given most recent first.

    Keeps the first ``max_items`` entries, e.g. ``"Toy Story 5.0; Heat 4.0"``; an empty history
    gives ``empty`` (``NO_HISTORY``), so a new user is scored from the candidate text alone. A
    rating of ``None`` (implicit feedback) is passed on as ``None``.
    """
    max_items = _check_count("max_items", max_items)
    kept = list(entries)[:max_items]
    if not kept:
        return empty
    return separator.join(entry_template(str(t), None if r is None else float(r)) for t, r in kept)


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{name}: missing column(s) {missing}; found {list(frame.columns)}. "
            "Pass user_col=/item_col=/rating_col=/time_col= if yours are named differently."
        )


def history_positions(
    targets: pd.DataFrame,
    context: pd.DataFrame,
    *,
    max_items: int = 6,
    user_col: str = USER_COL,
    time_col: str = TIME_COL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each target's history lies in ``context`` sorted by (user, time) (ch.3, vectorised).

    Returns ``(order, stop, count)`` (int64 arrays): ``order`` sorts ``context``; the history of
    target ``j`` is ``order[stop[j] - count[j] : stop[j]]`` reversed (most recent first): the user's
    ratings with a timestamp *strictly* before the target's, never the target itself or anything
    later. User ids of any kind are matched exactly (``"A1"``, ``"007"`` and ``7`` all differ);
    times are numbers or datetimes.
    """
    max_items = _check_count("max_items", max_items)
    _check_columns(targets, [user_col, time_col], "targets")
    _check_columns(context, [user_col, time_col], "context")
    n_context = len(context)
    # Dense codes for users (exact ids, never sorted) and timestamps, so one int64 key
    # (user, time) sorts both at once.
    user_code, _ = pd.factorize(
        pd.concat([context[user_col], targets[user_col]], ignore_index=True), sort=False
    )
    c_time = time_values(context, time_col, "context", error=SchemaError)
    t_time = time_values(targets, time_col, "targets", error=SchemaError)
    if "f" in (c_time.dtype.kind, t_time.dtype.kind):
        c_time, t_time = c_time.astype(np.float64), t_time.astype(np.float64)
    times, time_code = np.unique(np.concatenate([c_time, t_time]), return_inverse=True)
    width = np.int64(len(times) + 1)
    key = user_code.astype(np.int64) * width + time_code.astype(np.int64)
    c_key, t_key = key[:n_context], key[n_context:]
    order = np.argsort(c_key, kind="stable")
    sorted_key = c_key[order]
    # 'left' = only keys strictly smaller: same user, earlier time (ties in time excluded).
    stop = np.searchsorted(sorted_key, t_key, side="left")
    start = np.searchsorted(sorted_key, user_code[n_context:].astype(np.int64) * width, side="left")
    count = np.minimum(stop - start, max_items)
    return order, stop, count


def build_histories(
    targets: pd.DataFrame,
    context: pd.DataFrame,
    titles: dict[Hashable, str],
    *,
    max_items: int = 6,
    entry_template: EntryTemplate = entry_text,
    separator: str = HISTORY_SEPARATOR,
    empty: str = NO_HISTORY,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
    time_col: str = TIME_COL,
) -> list[str]:
    """The history text of every target row (ch.3): its user's last ``max_items`` ratings in
    ``context`` strictly before the target's timestamp, most recent first.

    Vectorised (sort once, ``searchsorted``): 100k targets take a few seconds. ``titles`` maps
    item ids (exactly as in ``context``) to the short text shown for each rated item (titles keep
    histories short; see :func:`item_titles`). A ``context`` without ``rating_col`` (implicit
    feedback) gives entries ``entry_template(title, None)``: the title alone by default.
    Raises :class:`UnknownItemError` for a rated item missing from ``titles``.
    """
    max_items = _check_count("max_items", max_items)
    _check_columns(context, [user_col, item_col, time_col], "context")
    order, stop, count = history_positions(
        targets, context, max_items=max_items, user_col=user_col, time_col=time_col
    )
    items = context[item_col].to_numpy()[order]
    ratings = (
        pd.to_numeric(context[rating_col], errors="coerce").to_numpy(np.float64)[order]
        if rating_col in context.columns
        else None
    )
    # Format each context rating once; every history is then a slice joined in reverse.
    used = _used_positions(stop, count)
    missing = [i for i in pd.unique(items[used]) if i not in titles]
    if missing:
        raise UnknownItemError(
            f"{len(missing)} rated item(s) have no title, e.g. {_ids_shown(missing)}; "
            "build titles from the whole catalogue (e.g. item_titles(movies))"
        )
    entries = np.empty(len(items), dtype=object)
    for pos in used:
        rating = None if ratings is None else float(ratings[pos])
        entries[pos] = entry_template(titles[items[pos]], rating)
    out: list[str] = []
    for s, n in zip(stop.tolist(), count.tolist(), strict=True):
        out.append(separator.join(entries[s - n : s][::-1]) if n > 0 else empty)
    return out


def _used_positions(stop: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Sorted-context positions that appear in at least one history."""
    if len(stop) == 0 or count.max(initial=0) <= 0:
        return np.array([], dtype=np.int64)
    offsets = np.arange(int(count.max()))
    pos = stop[:, None] - 1 - offsets[None, :]
    keep = offsets[None, :] < count[:, None]
    return np.unique(pos[keep])


def make_pairs(
    targets: pd.DataFrame,
    context: pd.DataFrame,
    movies: pd.DataFrame,
    *,
    max_items: int = 6,
    tags: pd.DataFrame | None = None,
    max_tags: int = 0,
    item_template: ItemTemplate = item_text,
    entry_template: EntryTemplate = entry_text,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
    time_col: str = TIME_COL,
    title_col: str = TITLE_COL,
) -> pd.DataFrame:
    """The fine-tuning table (ch.3): one row per target with columns
    userId, movieId, history, candidate, rating.

    ``history`` comes from ``context`` (ratings the model may see, strictly earlier than the
    target), ``candidate`` from ``movies`` via ``item_template``. ``targets`` without a rating
    column (scoring new pairs, implicit feedback) get NaN ratings (float32). User and item ids
    are the targets' own, unchanged (``"A1"`` stays ``"A1"``). Raises :class:`UnknownItemError`
    for a target item missing from ``movies`` (listed in order of appearance).
    """
    _check_columns(targets, [user_col, item_col, time_col], "targets")
    titles = item_titles(movies, item_col=item_col, title_col=title_col)
    texts = item_texts(movies, tags, max_tags=max_tags, template=item_template, item_col=item_col, title_col=title_col)
    histories = build_histories(
        targets, context, titles, max_items=max_items, entry_template=entry_template,
        user_col=user_col, item_col=item_col, rating_col=rating_col, time_col=time_col,
    )
    item_ids = targets[item_col].to_numpy()
    unknown = [i for i in pd.unique(item_ids) if i not in texts]
    if unknown:
        raise UnknownItemError(
            f"{len(unknown)} target item(s) are not in the catalogue, e.g. {_ids_shown(unknown)}; "
            "pass the full movies frame or drop those targets"
        )
    ratings = (
        pd.to_numeric(targets[rating_col], errors="coerce").to_numpy(np.float32)
        if rating_col in targets.columns
        else np.full(len(targets), np.nan, np.float32)
    )
    pairs = pd.DataFrame(
        {
            USER_COL: targets[user_col].to_numpy(),
            ITEM_COL: item_ids,
            "history": histories,
            "candidate": [texts[i] for i in item_ids],
            RATING_COL: ratings,
        }
    )
    for key in (SCALE_ATTR, IMPLICIT_ATTR):  # the scale travels to the scaler; the kind too
        if targets.attrs.get(key) is not None:
            pairs.attrs[key] = targets.attrs[key]
    return pairs
