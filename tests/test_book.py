"""Tests on an executed, built copy of the book (staged by the Makefile).

Run after ``make notebooks-quick book-quick`` (or ``make book``)::

    RECSYS_TUTORIAL_BOOK_DIR=<stage dir> RECSYS_TUTORIAL_PROFILE=quick pytest tests/test_book.py

``<stage dir>`` holds ``_config.yml``, ``_toc.yml`` and ``book/`` with notebooks executed in
place (``pytest --nbmake --overwrite``) and the HTML under ``_build/html``. Without
``RECSYS_TUTORIAL_BOOK_DIR`` the whole module is skipped. The rendering tests (names
containing ``render``) open pages in headless Chromium and skip when it is not installed.

Adding a notebook's numbers
---------------------------
Every number a notebook records with ``recsys_tutorial.report.record(name, value)`` can be
bounded in ``BOUNDS`` (in ``tests/book_bounds.py``, beside ``CLAIMS``):
``BOUNDS[notebook stem][name]`` is either

* ``(low, high)``: the same bounds for every profile, or
* ``{"quick": (low, high), "full": (low, high)}``: per profile; a profile left out is not
  checked for that name.

``low`` or ``high`` may be ``None`` (unbounded on that side); both ends are inclusive.
Keep bounds loose (the quick profile trains on a few hundred ratings). A bounded name the
executed notebook did not record FAILS, so a notebook that stops recording is caught, and
every notebook listed in ``_toc.yml`` needs an entry with at least one bound.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

BOOK_DIR_ENV = "RECSYS_TUTORIAL_BOOK_DIR"
PROFILE_ENV = "RECSYS_TUTORIAL_PROFILE"

if not os.environ.get(BOOK_DIR_ENV):
    pytest.skip(
        f"{BOOK_DIR_ENV} is not set: these tests need an executed, built book "
        "(make notebooks-quick book-quick)",
        allow_module_level=True,
    )

import yaml  # noqa: E402  (jupyter-book depends on PyYAML)

from recsys_tutorial.report import recorded_values  # noqa: E402

BOOK_DIR = Path(os.environ[BOOK_DIR_ENV]).resolve()
PROFILE = os.environ.get(PROFILE_ENV, "full").strip().lower()
HTML_DIR = BOOK_DIR / "_build" / "html"
SCREENSHOT_DIR = BOOK_DIR / "screenshots"

from book_bounds import BOUNDS, CLAIMS, Range  # noqa: E402  (the numbers the prose relies on)


# --------------------------------------------------------------------------- the table of contents
def _toc_files() -> list[str]:
    """Every file of _toc.yml in order (root first), without extension."""
    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return [str(Path(f).with_suffix("")) if Path(f).suffix in (".md", ".ipynb") else f for f in files]


def _source(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = BOOK_DIR / f"{entry}{suffix}"
        if path.exists():
            return path
    return None


TOC = _toc_files()
NOTEBOOKS = [e for e in TOC if (BOOK_DIR / f"{e}.ipynb").exists()]
NOTEBOOK_STEMS = {Path(e).name: e for e in NOTEBOOKS}


def _load(entry: str) -> dict:
    return json.loads((BOOK_DIR / f"{entry}.ipynb").read_text(encoding="utf-8"))


def _cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# --------------------------------------------------------------------------- (a) executed notebooks
def test_toc_sources_exist():
    missing = [e for e in TOC if _source(e) is None]
    assert not missing, f"_toc.yml lists files missing from {BOOK_DIR}: {missing}"
    assert NOTEBOOKS, "no notebook in _toc.yml"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_executed_without_errors(entry):
    nb = _load(entry)
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{entry}: no code cells (still a placeholder?)"
    not_run = [i for i, c in enumerate(code_cells) if c.get("execution_count") is None and _cell_text(c).strip()]
    assert not not_run, f"{entry}: code cells {not_run} were not executed; run nbmake --overwrite on the staged copy"
    n_outputs = sum(len(c.get("outputs", [])) for c in code_cells)
    assert n_outputs > 0, f"{entry}: executed notebook has no outputs"
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(code_cells)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{entry}: error outputs: {errors}"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_structure(entry):
    """The structure CONTRIBUTING.md asks of every notebook."""
    cells = _load(entry)["cells"]
    assert cells and cells[0]["cell_type"] == "markdown" and _cell_text(cells[0]).lstrip().startswith("# "), (
        f"{entry}: the first cell must be a markdown title ('# ...')"
    )
    code = [_cell_text(c) for c in cells if c["cell_type"] == "code"]
    assert any("print_environment()" in src for src in code), f"{entry}: no setup cell calling print_environment()"
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{entry}: needs exactly one cell tagged 'parameters', found {len(params)}"
    assert "get_profile(" in _cell_text(params[0]), f"{entry}: the parameters cell must read sizes from get_profile()"
    markdown = "\n".join(_cell_text(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"^## 1\. ", markdown, re.M), f"{entry}: sections must be numbered ('## 1. ...')"
    assert re.search(r"^## Summary", markdown, re.M), f"{entry}: no '## Summary' section"
    assert re.search(r"^## Exercises", markdown, re.M), f"{entry}: no '## Exercises' section"
    assert "{exercise}" in markdown and ("{solution}" in markdown or "{solution-start}" in markdown), (
        f"{entry}: exercises need {{exercise}} and {{solution}} (or {{solution-start}}) blocks"
    )


# --------------------------------------------------------------------------- (b) recorded numbers
def _range_for(spec: Range | dict[str, Range]) -> Range | None:
    if isinstance(spec, dict):
        return spec.get(PROFILE)
    return spec


def test_bounds_cover_every_notebook():
    unknown = sorted(set(BOUNDS) - set(NOTEBOOK_STEMS))
    assert not unknown, f"BOUNDS has entries for notebooks not in _toc.yml: {unknown}"
    uncovered = sorted(stem for stem in NOTEBOOK_STEMS if not BOUNDS.get(stem))
    assert not uncovered, f"add bounds for the numbers these notebooks record (BOUNDS in {__file__}): {uncovered}"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_notebook_records_numbers(entry):
    values = recorded_values(str(BOOK_DIR / f"{entry}.ipynb"))
    assert values, f"{entry}: records no numbers (recsys_tutorial.report.record)"


BOUND_CASES = [
    pytest.param(stem, name, spec, id=f"{stem}:{name}")
    for stem, names in BOUNDS.items()
    for name, spec in names.items()
]


@pytest.mark.parametrize(("stem", "name", "spec"), BOUND_CASES)
def test_recorded_value_within_bounds(stem, name, spec):
    bounds = _range_for(spec)
    if bounds is None:
        pytest.skip(f"no bound for profile {PROFILE!r}")
    assert stem in NOTEBOOK_STEMS, f"{stem} is not a notebook of _toc.yml in {BOOK_DIR}"
    values = recorded_values(str(BOOK_DIR / f"{NOTEBOOK_STEMS[stem]}.ipynb"))
    assert name in values, f"{stem}: {name!r} was not recorded (recorded: {sorted(values)})"
    value = values[name]
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{stem}: {name} = {value!r} is not a number"
    assert math.isfinite(value), f"{stem}: {name} = {value!r}"
    low, high = bounds
    assert (low is None or value >= low) and (high is None or value <= high), (
        f"{stem}: {name} = {value!r} outside [{low}, {high}] (profile {PROFILE})"
    )


CLAIM_CASES = [
    pytest.param(stem, profile, claim, check, id=f"{stem}:{claim}")
    for stem, claims in CLAIMS.items()
    for profile, claim, check in claims
]


@pytest.mark.parametrize(("stem", "profile", "claim", "check"), CLAIM_CASES)
def test_claim_holds(stem, profile, claim, check):
    if profile is not None and profile != PROFILE:
        pytest.skip(f"claim made for the {profile} profile")
    values = recorded_values(str(BOOK_DIR / f"{NOTEBOOK_STEMS[stem]}.ipynb"))
    assert check(values), f"{stem}: the text says {claim!r}, but the run recorded {values}"


# --------------------------------------------------------------------------- (c) HTML
@pytest.mark.parametrize("entry", TOC)
def test_html_page_exists(entry):
    page = HTML_DIR / f"{entry}.html"
    assert page.is_file() and page.stat().st_size > 0, f"{page} missing: was the book built?"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_plot_images_in_html(entry):
    """Every figure a notebook produced is in its page, and every <img> points to a file."""
    nb = _load(entry)
    n_figures = sum(
        1
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if any(k.startswith("image/") for k in o.get("data", {}))
        and "remove-output" not in c.get("metadata", {}).get("tags", [])
    )
    if Path(entry).name == "01_movielens":
        assert n_figures >= 5, f"{entry}: expected its plots, found {n_figures} image outputs"
    page = HTML_DIR / f"{entry}.html"
    html = page.read_text(encoding="utf-8")
    srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", html)
    local = [s for s in srcs if not s.startswith(("http:", "https:", "data:"))]
    assert len(srcs) >= n_figures, f"{entry}: {n_figures} figures in the notebook, {len(srcs)} <img> in the page"
    missing = [s for s in local if not (page.parent / s.split("?")[0]).is_file()]
    assert not missing, f"{entry}: images missing from the HTML build: {missing}"


# --------------------------------------------------------------------------- (d) rendering
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not HTML_DIR.is_dir():
        pytest.fail(f"{HTML_DIR} missing: build the book first")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(HTML_DIR)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the local HTTP server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    if exe is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    profile_dir = tempfile.mkdtemp(prefix="recsys-chromium-")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    base_args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile_dir}",
        "--virtual-time-budget=20000",
    ]

    def run(url: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base_args, *extra, url], capture_output=True, text=True, timeout=180, check=False
        )

    class Browser:
        def dom(self, url: str) -> str:
            result = run(url, "--dump-dom")
            assert result.returncode == 0 and result.stdout.strip(), (
                f"chromium --dump-dom {url} failed ({result.returncode}): {result.stderr[-2000:]}"
            )
            return result.stdout

        def screenshot(self, url: str, name: str, height: int = 2400) -> Path:
            out = SCREENSHOT_DIR / name
            result = run(url, f"--screenshot={out}", f"--window-size=1280,{height}")
            assert result.returncode == 0 and out.is_file() and out.stat().st_size > 10_000, (
                f"chromium --screenshot {url} failed ({result.returncode}): {result.stderr[-2000:]}"
            )
            return out

    yield Browser()
    shutil.rmtree(profile_dir, ignore_errors=True)


def _pages_with(pattern: str) -> list[str]:
    found = []
    for entry in TOC:
        page = HTML_DIR / f"{entry}.html"
        if page.is_file() and re.search(pattern, page.read_text(encoding="utf-8")):
            found.append(entry)
    return found


# Raw math markup as Sphinx writes it for MathJax: \( ... \) inline, \[ ... \] display.
MATH_PATTERN = r'class="math[ "]|\\\(|\\\['
MERMAID_PATTERN = r'class="mermaid[ "]'


def test_render_math_typeset(server, browser):
    pages = _pages_with(MATH_PATTERN)
    assert "book/01_background" in pages, "book/01_background should contain math"
    for entry in pages[:4]:
        dom = browser.dom(f"{server}/{entry}.html")
        assert "<mjx-container" in dom, f"{entry}: MathJax did not typeset the math (offline vendoring broken?)"
        assert re.search(r"<mjx-container[^>]*>\s*<svg", dom), f"{entry}: MathJax output is not SVG"
        assert not re.search(r'<g[^>]*data-mml-node="merror"', dom), f"{entry}: MathJax reported a TeX error"
    browser.screenshot(f"{server}/book/01_background.html", "01_background.png", height=3600)


def _mermaid_blocks(dom: str) -> list[str]:
    return re.findall(r'<pre[^>]*class="mermaid[^"]*"[^>]*>(.*?)</pre>', dom, re.S) + re.findall(
        r'<div[^>]*class="mermaid[^"]*"[^>]*>(.*?</svg>)', dom, re.S
    )


def test_render_mermaid_diagrams(server, browser):
    pages = _pages_with(MERMAID_PATTERN)
    assert "book/01_background" in pages, "book/01_background should contain a Mermaid diagram"
    for entry in pages:
        dom = browser.dom(f"{server}/{entry}.html")
        blocks = _mermaid_blocks(dom)
        assert blocks, f"{entry}: no .mermaid element in the rendered page"
        unrendered = [b[:80] for b in blocks if "<svg" not in b]
        assert not unrendered, f"{entry}: Mermaid did not render (offline vendoring broken?): {unrendered}"
        assert "Syntax error in text" not in dom, f"{entry}: Mermaid reported a syntax error"
        if entry != "book/01_background":  # its screenshot is taken by the math test
            browser.screenshot(f"{server}/{entry}.html", f"{Path(entry).name}.png", height=3600)


def test_render_plots_load(server, browser):
    """The chapters' figures are served and appear in the rendered page."""
    for entry in NOTEBOOKS:
        page = HTML_DIR / f"{entry}.html"
        srcs = re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", page.read_text(encoding="utf-8"))
        for src in srcs:
            if src.startswith(("http:", "https:", "data:")):
                continue
            url = urllib.parse.urljoin(f"{server}/{entry}.html", src)
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert resp.status == 200 and len(resp.read()) > 1000, f"{entry}: {src} not served"
    entry = NOTEBOOK_STEMS.get("01_movielens")
    assert entry, "01_movielens missing from _toc.yml"
    dom = browser.dom(f"{server}/{entry}.html")
    assert len(re.findall(r"<img[^>]*\ssrc=\"[^\"]*_images/", dom)) >= 5, f"{entry}: plots missing from the rendered page"
    browser.screenshot(f"{server}/{entry}.html", "01_movielens.png", height=4000)


# --------------------------------------------------------------------------- (e) presentation
# A code cell shows a value when its last statement is a bare expression (IPython's
# execute_result). Rule: an execute_result whose mime bundle is ONLY text/plain (the repr of a
# number, string, dict, list, ...: what `record(...)` or a stray variable at the end of a cell
# prints) is a stray output unless the cell carries the tag "display". Rich results (DataFrame
# and Styler HTML, images) are displays by construction and pass; tag those cells "display"
# anyway to say so. End a cell with `;` (or assign the value) to show nothing.
def _plain_repr_results(cell: dict) -> list[str]:
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") != "execute_result":
            continue
        data = out.get("data", {})
        if set(data) <= {"text/plain"}:
            text = data.get("text/plain", "")
            found.append("".join(text) if isinstance(text, list) else str(text))
    return found


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_no_stray_outputs(entry):
    stray = []
    for i, cell in enumerate(_load(entry)["cells"]):
        if cell["cell_type"] != "code" or "display" in cell.get("metadata", {}).get("tags", []):
            continue
        for text in _plain_repr_results(cell):
            last = _cell_text(cell).rstrip().splitlines()[-1] if _cell_text(cell).strip() else ""
            stray.append(f"cell {i} (last line {last.strip()[:60]!r}) shows {text[:40]!r}")
    assert not stray, (
        f"{entry}: code cells print a stray value (end the cell with ';', assign the value, or tag "
        f"the cell 'display' if the value is meant to be shown): {stray}"
    )


# Math in Markdown: $$...$$ (display) and $...$ (inline), outside code. A doubled backslash
# before a letter ("\\eta") is a TeX line break followed by the letters "eta", which is how
# "$\\eta\\theta$" rendered as "etatheta". "\\\text" (a line break, then \text) is allowed.
DOUBLED_BACKSLASH = re.compile(r"(?<!\\)\\\\[A-Za-z]")
FENCED_CODE = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$([^$]+?)\$")  # may span lines, as in MyST


def _markdown_math(text: str) -> list[str]:
    text = INLINE_CODE.sub("", FENCED_CODE.sub("", text))
    display = DISPLAY_MATH.findall(text)
    return display + INLINE_MATH.findall(DISPLAY_MATH.sub("", text))


def _markdown_sources(entry: str) -> list[str]:
    path = _source(entry)
    if path is None:
        return []
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    return [_cell_text(c) for c in _load(entry)["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("entry", TOC)
def test_markdown_math_has_no_doubled_backslashes(entry):
    bad = [
        math.strip()[:60]
        for text in _markdown_sources(entry)
        for math in _markdown_math(text)
        if DOUBLED_BACKSLASH.search(math)
    ]
    assert not bad, f"{entry}: doubled backslashes in Markdown math (write \\eta, not \\\\eta): {bad}"


def test_markdown_math_scan_finds_doubled_backslashes():
    """The scan above on hand-made text: it must flag the escaped form and pass the right one."""
    assert any(DOUBLED_BACKSLASH.search(m) for m in _markdown_math("rate $\\\\eta\\\\theta$ here"))
    assert not any(DOUBLED_BACKSLASH.search(m) for m in _markdown_math("rate $\\eta\\theta$ here"))
    assert not _markdown_math("code `$\\\\eta$` is not math")
    aligned = "$$\na \\\\\n\\\\\\text{b}\n$$"
    assert _markdown_math(aligned) and not DOUBLED_BACKSLASH.search(_markdown_math(aligned)[0])


# In the built HTML, Sphinx writes math for MathJax inside containers (<span class="math ...">
# \(...\)</span>, <div class="math ...">\[...\]</div>). TeX outside them (and outside code and
# scripts) was not recognised as math and shows as raw text; a doubled backslash inside them
# renders as a line break plus letters.
HTML_SKIP = re.compile(r"<(script|style|pre|code|textarea)\b.*?</\1>", re.S | re.I)
HTML_MATH = re.compile(r'<(span|div) class="math[^"]*"[^>]*>(.*?)</\1>', re.S)
RAW_TEX = re.compile(
    r"\$\\|\\(?:frac|tfrac|sqrt|eta|theta|lambda|alpha|beta|epsilon|sigma|hat|sum|prod|"
    r"mathbb|mathcal|mathrm|operatorname|nabla|partial|propto|cdot|lVert|big|top)\b"
)


def _unrendered_tex(html: str) -> tuple[list[str], list[str]]:
    html = HTML_SKIP.sub("", html)
    doubled = [m[1][:60] for m in HTML_MATH.findall(html) if DOUBLED_BACKSLASH.search(m[1])]
    text = HTML_MATH.sub("", html)
    raw = [text[max(0, m.start() - 30) : m.end() + 30] for m in RAW_TEX.finditer(text)]
    return doubled, raw


def test_unrendered_tex_scan_on_hand_made_html():
    good = '<p>rate <span class="math notranslate nohighlight">\\(\\eta\\theta\\)</span></p>'
    assert _unrendered_tex(good) == ([], [])
    assert _unrendered_tex(good.replace("\\eta\\theta", "\\\\eta\\\\theta"))[0]
    assert _unrendered_tex("<p>the rate $\\eta$ and \\frac{1}{2}</p>")[1]
    assert _unrendered_tex('<pre>ax.set_xlabel("$\\\\sqrt{v}$")</pre>') == ([], [])


@pytest.mark.parametrize("entry", TOC)
def test_html_has_no_unrendered_tex(entry):
    page = HTML_DIR / f"{entry}.html"
    if not page.is_file():
        pytest.fail(f"{page} missing: was the book built?")
    doubled, raw = _unrendered_tex(page.read_text(encoding="utf-8"))
    assert not doubled, f"{entry}: math with doubled backslashes (renders as letters): {doubled}"
    assert not raw, f"{entry}: TeX outside MathJax's math containers (not rendered): {raw}"


# --------------------------------------------------------------------------- (e) exercises
EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}([^\n]*)\n(.*?)^\1", re.S | re.M)
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}\s*(\S+)[^\n]*\n(.*?)^\1", re.S | re.M)
GATED_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}\s*(\S+)", re.M)
LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
CODE_IN_PROSE = re.compile(r"^(```|~~~|    \S)", re.M)
MAX_CODE_LINE = 100
MAX_CELL_LINES = 45


def chapter_number(stem: str) -> str:
    """'06_1_topk' -> '6.1', '05_2b_trainer' -> '5.2b', '02_concepts' -> '2'."""
    parts = stem.split("_")
    number = str(int(parts[0]))
    if len(parts) > 2 and re.fullmatch(r"\d+[a-z]?", parts[1]):
        number += f".{parts[1]}"
    return number


def test_chapter_number():
    assert [chapter_number(s) for s in ("06_1_topk", "05_2b_trainer", "02_concepts")] == [
        "6.1", "5.2b", "2"]


def _exercises(entry: str) -> tuple[list[tuple[str, str, str]], dict[str, str], dict[str, list]]:
    """(title, label, options) per exercise; prose solutions by label; gated solutions' cells."""
    cells = _load(entry)["cells"]
    markdown = "\n".join(_cell_text(c) for c in cells if c["cell_type"] == "markdown")
    exercises = []
    for _, title, body in EXERCISE.findall(markdown):
        label = LABEL.search(body)
        exercises.append((title.strip(), label.group(1) if label else "", body))
    prose = {label: body for _, label, body in SOLUTION.findall(markdown)}
    gated: dict[str, list] = {}
    current = None
    for cell in cells:
        text = _cell_text(cell)
        if cell["cell_type"] == "markdown":
            # one cell may close a solution and open the next: the last directive wins
            marks = [(m.start(), m.group(2)) for m in GATED_START.finditer(text)]
            marks += [(m.start(), None) for m in re.finditer(r"\{solution-end\}", text)]
            for _, label in sorted(marks):
                current = label
                if label is not None:
                    gated[label] = []
        elif current is not None:
            gated[current].append(cell)
    return exercises, prose, gated


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_exercises_are_numbered_per_chapter_and_solved(entry):
    exercises, prose, gated = _exercises(entry)
    number = chapter_number(Path(entry).name)
    assert len(exercises) >= 3, f"{entry}: a chapter needs at least 3 exercises, has {len(exercises)}"
    for i, (title, label, body) in enumerate(exercises, start=1):
        assert title.startswith(f"{number}.{i} "), (
            f"{entry}: exercise {i} must be titled '{number}.{i} · ...' (numbered per chapter), "
            f"got {title!r}")
        assert ":nonumber:" in body, f"{entry}: exercise {title!r} needs :nonumber:"
        assert label.startswith("ex-"), f"{entry}: exercise {title!r} needs a :label: ex-..."
        assert (label in prose) != (label in gated), (
            f"{entry}: exercise {label} needs exactly one solution ({{solution}} or "
            "{solution-start})")
    for label, body in prose.items():
        assert not CODE_IN_PROSE.search(body), (
            f"{entry}: the solution to {label} holds a code block that never runs: make it a "
            "gated solution ({solution-start}) with code cells tagged 'solution'")
    for label, cells in gated.items():
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code, f"{entry}: the gated solution to {label} has no code cell"
        untagged = [i for i, c in enumerate(code) if "solution" not in c.get("metadata", {}).get(
            "tags", [])]
        assert not untagged, f"{entry}: code cells of the solution to {label} need the tag 'solution'"
        assert all(c.get("outputs") for c in code), (
            f"{entry}: the solution to {label} was not executed or shows nothing: a solution "
            "prints or displays what the reader should see")


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_code_cells_read_on_a_page(entry):
    long_lines, long_cells = [], []
    for i, cell in enumerate(_load(entry)["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = _cell_text(cell).splitlines()
        long_lines += [f"cell {i}: {line[:50]!r}…" for line in lines if len(line) > MAX_CODE_LINE]
        if len(lines) > MAX_CELL_LINES:
            long_cells.append(f"cell {i} ({len(lines)} lines)")
    assert not long_lines, f"{entry}: code lines over {MAX_CODE_LINE} characters: {long_lines}"
    assert not long_cells, f"{entry}: code cells over {MAX_CELL_LINES} lines: {long_cells}"


@pytest.mark.parametrize("entry", NOTEBOOKS)
def test_each_recorded_name_is_glued_once(entry):
    """The book build refuses a glue key recorded twice ('duplicate'): catch it per notebook."""
    seen: dict[str, int] = {}
    for cell in _load(entry)["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                seen[name] = seen.get(name, 0) + 1
    twice = sorted(name for name, count in seen.items() if count > 1)
    assert not twice, f"{entry}: names recorded more than once (record each name once): {twice}"


EX_REF = re.compile(r"\{ref\}`([^`<]*?)\s*<(ex-[A-Za-z0-9-]+)>`|\{ref\}`(ex-[A-Za-z0-9-]+)`")


def test_references_to_exercises_name_the_right_number():
    """An exercise is unnumbered for Sphinx (its number is in its title), so a bare {ref} renders
    as "Exercise": every reference carries its text, and that text's number is the target's."""
    numbers = {}
    for entry in NOTEBOOKS:
        exercises, _, _ = _exercises(entry)
        numbers.update({label: title.split()[0] for title, label, _ in exercises})
    wrong = []
    for entry in TOC:
        for text in _markdown_sources(entry):
            for shown, label, bare in EX_REF.findall(text):
                if bare:
                    wrong.append(f"{entry}: bare {{ref}}`{bare}` (write {{ref}}`Exercise N <{bare}>`)")
                elif label not in numbers:
                    wrong.append(f"{entry}: {label} is not an exercise label")
                elif shown != f"Exercise {numbers[label]}":
                    wrong.append(f"{entry}: '{shown}' points to exercise {numbers[label]}")
    assert not wrong, wrong
