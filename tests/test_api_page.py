"""The API reference page: every public name of the library, documented from its docstring.

The fast tests check what the page is generated from (book/api.rst and
:mod:`xai_lib.booktools.api`); the slow one builds the page alone with Sphinx, warnings as
errors, and checks that every public name got its entry.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import xai_lib as xl
from xai_lib.booktools import api

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "api.rst"


def documented_namespaces() -> list[str]:
    return [
        m.group(1)
        for m in re.finditer(r"^\.\. xl-api:: (\S+)$", PAGE.read_text(), re.M)
    ]


def test_the_page_documents_every_namespace_and_chapter_module():
    wanted = list(api.NAMESPACES) + [
        s for n in api.NAMESPACES for s in api.submodules(n)
    ]
    assert documented_namespaces() == wanted


def test_every_public_namespace_of_the_package_is_on_the_page():
    listed = {id(__import__("importlib").import_module(n)) for n in api.NAMESPACES}
    for name in xl.__all__:
        value = getattr(xl, name)
        if isinstance(value, types.ModuleType):
            assert id(value) in listed, f"xl.{name} has no section on the API page"
    for name in xl._NAMESPACES:
        assert f"xai_lib.{name}" in api.NAMESPACES


def test_public_names_are_all_or_what_the_module_itself_defines():
    assert api.public_names("xai_lib.metrics") == [
        n
        for n in xl.metrics.__all__
        if not isinstance(getattr(xl.metrics, n), types.ModuleType)
    ]
    spectral = api.public_names("xai_lib.spectral")  # a package: its __all__
    assert "expected_frequency" in spectral and "radial_profile" in spectral
    assert (
        "check_input" not in spectral and "torch" not in spectral
    )  # imported, not its own
    assert all(not n.startswith("_") for n in spectral)
    assert not hasattr(xl.shattered, "__all__")
    shattered = api.public_names("xai_lib.shattered")  # no __all__: its own definitions
    assert "sawtooth" in shattered and "shatteredness" in shattered
    assert (
        "check_input" not in shattered
        and "torch" not in shattered
        and "pearson" not in shattered
    )  # imported, not its own
    assert all(not n.startswith("_") for n in shattered)
    top = api.public_names("xai_lib")
    assert (
        "saliency" in top and "METHODS" in top and "viz" not in top
    )  # modules: sections


def test_plain_text_marks_are_escaped_outside_literals():
    assert api.plain_text_marks("|a| of ``x|y``") == r"\|a\| of ``x|y``"
    assert (
        api.plain_text_marks("* a bullet, x * y, *args")
        == r"* a bullet, x \* y, \*args"
    )
    assert (
        api.plain_text_marks("**strong** and *a phrase*") == "**strong** and *a phrase*"
    )


@pytest.mark.slow
def test_the_api_page_builds_without_warnings_and_covers_every_public_name(tmp_path):
    (tmp_path / "index.rst").write_text(PAGE.read_text())
    (tmp_path / "conf.py").write_text(
        'extensions = ["sphinx.ext.autodoc", "xai_lib.booktools.api"]\n'
        'autodoc_member_order = "bysource"\n'
    )
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "-q",
            "-b",
            "html",
            str(tmp_path),
            str(tmp_path / "_build"),
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    html = (tmp_path / "_build" / "index.html").read_text()
    ids = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', html))
    spaces = list(api.NAMESPACES) + [
        s for n in api.NAMESPACES for s in api.submodules(n)
    ]
    wanted = {f"{ns}.{name}" for ns in spaces for name in api.public_names(ns)}
    assert wanted <= ids, f"not documented: {sorted(wanted - ids)}"


def test_formula_stars_and_trailing_underscores_are_escaped():
    assert api.plain_text_marks("f(x, **options)") == r"f(x, \*\*options)"
    assert (
        api.plain_text_marks("torch's index_add_, x_i") == r"torch's index_add\_, x_i"
    )
    assert api.plain_text_marks("a ``b_`` c") == "a ``b_`` c"
