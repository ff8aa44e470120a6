"""The bibliography: every entry has a DOI or URL, author-year labels, and every citation of
the book resolves (book/references.bib; the style is xai_lib.booktools.bibliography)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pybtex.database
import pytest

from xai_lib.booktools.bibliography import AuthorYearStyle, author_year_label

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
CITATION = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


@pytest.fixture(scope="module")
def entries():
    return pybtex.database.parse_file(str(BIB)).entries


def cited_keys() -> set[str]:
    keys = set()
    for path in sorted((ROOT / "book").glob("*.ipynb")) + sorted(
        (ROOT / "book").glob("*.md")
    ):
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            text = "\n".join(
                "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
            )
        else:
            text = path.read_text()
        for group in CITATION.findall(text):
            keys.update(k.strip() for k in group.split(","))
    return keys


def test_every_entry_has_a_doi_or_a_url(entries):
    missing = [
        k
        for k, e in entries.items()
        if not {"doi", "url"} & {f.lower() for f in e.fields}
    ]
    assert missing == []


def test_every_citation_of_the_book_is_in_the_bibliography(entries):
    assert cited_keys() - set(entries) == set()


def test_labels_are_author_year_and_unique(entries):
    style = AuthorYearStyle()
    labels = [e.label for e in style.format_entries(entries.values())]
    assert len(set(labels)) == len(labels)
    pattern = re.compile(
        r"^[^\W\d][\w\-' ]*( and [^\W\d][\w\-' ]*| et al\.)?, (\d{4}[a-z]?|n\.d\.)$"
    )
    assert [label for label in labels if not pattern.match(label)] == []


def test_label_rules(entries):
    assert author_year_label(entries["kim2014convolutional"]) == "Kim, 2014"
    assert author_year_label(entries["brendel2019bagnet"]) == "Brendel and Bethge, 2019"
    assert author_year_label(entries["ancona2018towards"]) == "Ancona et al., 2018"
    assert author_year_label(entries["montufar2014number"]) == "Montúfar et al., 2014"
    labels = {
        e.key: e.label for e in AuthorYearStyle().format_entries(entries.values())
    }
    assert {labels["adebayo2018local"], labels["adebayo2018sanity"]} == {
        "Adebayo et al., 2018a",
        "Adebayo et al., 2018b",
    }


def test_titles_keep_their_capitals(entries):
    style = AuthorYearStyle()
    text = {
        e.key: e.text.render_as("text") for e in style.format_entries(entries.values())
    }
    assert "Grad-CAM: Visual Explanations" in text["selvaraju2017gradcam"]
    assert "RISE: Randomized Input Sampling" in text["petsiuk2018rise"]
    assert "Approximating CNNs" in text["brendel2019bagnet"]
