"""The book's bibliography style: author-year labels that match the in-text citations.

A Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``) that registers a pybtex
formatting style, ``xl_author_year``, for sphinxcontrib-bibtex (``bibtex_default_style``):

* labels are "Kim, 2014", "Brendel and Bethge, 2019", "Ancona et al., 2018" (with "2018a",
  "2018b" where two entries would share a label, and "n.d." for an entry without a year), so
  that with ``bibtex_reference_style: label`` a citation in the text reads exactly as the
  entry's label in the bibliography;
* entries are sorted by author, year and title;
* titles keep their capitals as written in the .bib file (Grad-CAM, RISE, CNNs, LRP), instead
  of the sentence case of pybtex's ``unsrt`` style.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field, sentence

STYLE = "xl_author_year"


def _plain(latex: str) -> str:
    """A name or year written in LaTeX (``Mont{\\'u}far``) as plain text (``Montúfar``)."""
    return Text.from_latex(latex).render_as("text")


def author_year_label(entry) -> str:
    """The label of one entry, before duplicates get their letter: "Ancona et al., 2018"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    surnames = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not surnames:
        who = _plain(entry.fields.get("organization", entry.key))
    elif len(surnames) == 1:
        who = surnames[0]
    elif len(surnames) == 2:
        who = f"{surnames[0]} and {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    year = _plain(entry.fields["year"]) if "year" in entry.fields else "n.d."
    return f"{who}, {year}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-year labels; entries that would share one get a, b, ... after the year."""

    def format_labels(self, sorted_entries):
        labels = [author_year_label(entry) for entry in sorted_entries]
        total = {label: labels.count(label) for label in labels}
        seen: dict[str, int] = {}
        for label in labels:
            if total[label] == 1:
                yield label
            else:
                yield label + chr(ord("a") + seen.get(label, 0))
                seen[label] = seen.get(label, 0) + 1


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt with author-year labels, author-year-title order and titles as written."""

    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"

    def format_title(self, e, which_field, as_sentence=True):
        title = field(which_field)
        return sentence[title] if as_sentence else title


def setup(app):
    """Sphinx extension: make ``bibtex_default_style: xl_author_year`` available."""
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle, force=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
