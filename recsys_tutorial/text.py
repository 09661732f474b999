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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .data import GENRES_COL, ITEM_COL, RATING_COL, TIME_COL, TITLE_COL, USER_COL, YEAR_COL
from .errors import ConfigError, SchemaError, UnknownItemError

#: The history text of a user with no earlier ratings (chapter 3: the cold-start fallback).
NO_HISTORY = "new user, no ratings yet"
#: Separator between history entries.
HISTORY_SEPARATOR = "; "

ItemTemplate = Callable[..., str]
EntryTemplate = Callable[[str, float], str]


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


def _top_tags(tags: pd.DataFrame, max_tags: int, item_col: str) -> dict[int, list[str]]:
    """The ``max_tags`` most frequent tags of each item (lower-cased, ties alphabetical)."""
    if tags is None or max_tags <= 0 or len(tags) == 0:
        return {}
    if item_col not in tags.columns or "tag" not in tags.columns:
        raise SchemaError(f"tags: need columns {item_col!r} and 'tag'; found {list(tags.columns)}")
    frame = pd.DataFrame(
        {"item": tags[item_col].astype(np.int64), "tag": tags["tag"].astype(str).str.strip().str.lower()}
    )
    counts = frame.groupby(["item", "tag"]).size().reset_index(name="n")
    counts = counts.sort_values(["item", "n", "tag"], ascending=[True, False, True])
    top = counts.groupby("item").head(max_tags)
    return {int(i): list(g["tag"]) for i, g in top.groupby("item")}


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
) -> dict[int, str]:
    """``{item id: candidate text}`` for a catalogue (ch.3), optionally with its top tags.

    ``template(title, year, genres, tags)`` builds each text (default :func:`item_text`);
    ``max_tags`` > 0 adds that many of the item's most frequent user tags.
    """
    if max_tags < 0:
        raise ConfigError(f"max_tags must be >= 0, got {max_tags}")
    for col in (item_col, title_col):
        if col not in movies.columns:
            raise SchemaError(f"movies: missing column {col!r}; found {list(movies.columns)}")
    top = _top_tags(tags, max_tags, item_col) if tags is not None else {}
    ids = movies[item_col].astype(np.int64).to_numpy()
    titles = movies[title_col].fillna("").astype(str).to_numpy()
    years = movies[year_col].to_numpy() if year_col in movies.columns else [None] * len(movies)
    genres = movies[genres_col].to_numpy() if genres_col in movies.columns else [()] * len(movies)
    out: dict[int, str] = {}
    for i, title, year, gen in zip(ids, titles, years, genres, strict=True):
        gen = gen if isinstance(gen, (list, tuple, np.ndarray)) else ([] if pd.isna(gen) else str(gen).split("|"))
        out[int(i)] = template(title, None if pd.isna(year) else int(year), list(gen), top.get(int(i), []))
    return out


# --------------------------------------------------------------------------- histories


def entry_text(title: str, rating: float) -> str:
    """One history entry (ch.3): ``"Toy Story 5.0"`` (the rating with one decimal)."""
    return f"{title} {float(rating):.1f}"


def history_text(
    entries: Sequence[tuple[str, float]],
    *,
    max_items: int = 6,
    entry_template: EntryTemplate = entry_text,
    separator: str = HISTORY_SEPARATOR,
    empty: str = NO_HISTORY,
) -> str:
    """A user's history as one short text (ch.3), entries given most recent first.

    Keeps the first ``max_items`` entries, e.g. ``"Toy Story 5.0; Heat 4.0"``; an empty history
    gives ``empty`` (``NO_HISTORY``), so a new user is scored from the candidate text alone.
    """
    if max_items < 0:
        raise ConfigError(f"max_items must be >= 0, got {max_items}")
    kept = list(entries)[:max_items]
    if not kept:
        return empty
    return separator.join(entry_template(str(t), float(r)) for t, r in kept)


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

    Returns ``(order, stop, count)``: ``order`` sorts ``context``; the history of target ``j`` is
    ``order[stop[j] - count[j] : stop[j]]`` reversed (most recent first): the user's ratings with a
    timestamp *strictly* before the target's, never the target itself or anything later.
    """
    _check_columns(targets, [user_col, time_col], "targets")
    _check_columns(context, [user_col, time_col], "context")
    c_user = context[user_col].to_numpy(np.int64)
    c_time = context[time_col].to_numpy(np.int64)
    t_user = targets[user_col].to_numpy(np.int64)
    t_time = targets[time_col].to_numpy(np.int64)
    # Dense codes for users and timestamps, so one int64 key (user, time) sorts both at once.
    _, user_code = np.unique(np.concatenate([c_user, t_user]), return_inverse=True)
    times, time_code = np.unique(np.concatenate([c_time, t_time]), return_inverse=True)
    width = np.int64(len(times) + 1)
    key = user_code.astype(np.int64) * width + time_code.astype(np.int64)
    c_key, t_key = key[: len(c_user)], key[len(c_user) :]
    order = np.argsort(c_key, kind="stable")
    sorted_key = c_key[order]
    # 'left' = only keys strictly smaller: same user, earlier time (ties in time excluded).
    stop = np.searchsorted(sorted_key, t_key, side="left")
    start = np.searchsorted(sorted_key, user_code[len(c_user) :].astype(np.int64) * width, side="left")
    count = np.minimum(stop - start, max_items)
    return order, stop, count


def build_histories(
    targets: pd.DataFrame,
    context: pd.DataFrame,
    titles: dict[int, str],
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
    item ids to the short text shown for each rated item (titles keep histories short).
    """
    if max_items < 0:
        raise ConfigError(f"max_items must be >= 0, got {max_items}")
    _check_columns(context, [user_col, item_col, rating_col, time_col], "context")
    order, stop, count = history_positions(
        targets, context, max_items=max_items, user_col=user_col, time_col=time_col
    )
    items = context[item_col].to_numpy(np.int64)[order]
    ratings = context[rating_col].to_numpy(np.float64)[order]
    # Format each context rating once; every history is then a slice joined in reverse.
    used = _used_positions(stop, count)
    needed = np.unique(items[used])
    missing = [int(i) for i in needed if int(i) not in titles]
    if missing:
        raise UnknownItemError(
            f"{len(missing)} rated item(s) have no title, e.g. {missing[:5]}; "
            "build titles from the whole catalogue (e.g. dict(zip(movies.movieId, movies.title)))"
        )
    entries = np.empty(len(items), dtype=object)
    for pos in used:
        entries[pos] = entry_template(titles[int(items[pos])], float(ratings[pos]))
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
    column (scoring new pairs) get NaN ratings.
    """
    _check_columns(targets, [user_col, item_col, time_col], "targets")
    titles = dict(zip(movies[item_col].astype(np.int64), movies[title_col].fillna("").astype(str), strict=True))
    texts = item_texts(movies, tags, max_tags=max_tags, template=item_template, item_col=item_col, title_col=title_col)
    histories = build_histories(
        targets, context, titles, max_items=max_items, entry_template=entry_template,
        user_col=user_col, item_col=item_col, rating_col=rating_col, time_col=time_col,
    )
    item_ids = targets[item_col].to_numpy(np.int64)
    unknown = sorted({int(i) for i in item_ids if int(i) not in texts})
    if unknown:
        raise UnknownItemError(
            f"{len(unknown)} target item(s) are not in the catalogue, e.g. {unknown[:5]}; "
            "pass the full movies frame or drop those targets"
        )
    ratings = (
        targets[rating_col].to_numpy(np.float32)
        if rating_col in targets.columns
        else np.full(len(targets), np.nan, np.float32)
    )
    return pd.DataFrame(
        {
            USER_COL: targets[user_col].to_numpy(np.int64),
            ITEM_COL: item_ids,
            "history": histories,
            "candidate": [texts[int(i)] for i in item_ids],
            RATING_COL: ratings,
        }
    )
