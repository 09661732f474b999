"""recsys_tutorial.textfiles: delimited files read with ids as text, and messages that say
which separator, header or argument was meant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_tutorial.errors import ConfigError, DataFileError
from recsys_tutorial.textfiles import layout_hint, read_delimited, unknown_arguments_error


def test_text_columns_keep_every_cell(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("who,what,score\nNA,007,NA\nnull,1,3\n,2,\n", encoding="utf-8")
    frame = read_delimited(path, text_columns=["who", "what"])
    assert frame["who"].tolist() == ["NA", "null", ""]  # only the empty cell is empty
    assert frame["what"].tolist() == ["007", "1", "2"]
    assert (
        np.isnan(frame["score"].iloc[0])
        and frame["score"].iloc[1] == 3
        and np.isnan(frame["score"].iloc[2])
    )


def test_multi_character_separator_and_names(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::1193::5\n2::661::3\n", encoding="utf-8")
    frame = read_delimited(path, sep="::", names=["u", "i", "r"], text_columns=["u"])
    assert frame.values.tolist() == [["1", 1193, 5], ["2", 661, 3]]


def test_unreadable_files(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("a,b\n1,é\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"f\.csv: not UTF-8 text .*encoding='latin-1'"):
        read_delimited(path)
    with pytest.raises(DataFileError, match=r"f\.csv: not ascii text"):
        read_delimited(path, encoding="ascii")
    assert read_delimited(path, encoding="latin-1")["b"].tolist() == ["é"]
    with pytest.raises(ConfigError, match=r"unknown encoding 'nope'"):
        read_delimited(path, encoding="nope")
    with pytest.raises(ConfigError, match=r"cannot be read with sep=','.*names=\['a', 'a'\]"):
        read_delimited(path, names=["a", "a"], encoding="latin-1")


@pytest.mark.parametrize(
    "columns, sep, expected",
    [
        (["userId::movieId::rating"], ",", " The file looks separated by '::'; pass sep='::'."),
        (["u\tv"], ",", " The file looks separated by '\\t'; pass sep='\\t'."),
        (["1|2|3"], ",", "looks separated by '|'; pass sep='|'. Its first line looks like data"),
        (["1", "1193", "5.1"], "::", "the file has no header row; pass names=['u', 'i']"),
        (["user", "item"], ",", ""),
    ],
)
def test_layout_hint(columns, sep, expected):
    hint = layout_hint(pd.DataFrame(columns=columns), sep=sep, wanted=["u", "i"])
    assert expected in hint if expected else hint == ""


def test_unknown_arguments_error():
    error = unknown_arguments_error(
        "f", {"delimiter": 1, "zzz": 2}, ["sep", "names"], {"delimiter": "sep"}
    )
    assert str(error) == (
        "f: unknown argument(s) ['delimiter', 'zzz'] (did you mean delimiter= -> sep=?); "
        "accepted: ['sep', 'names']"
    )
    assert isinstance(error, ConfigError)
