"""The Colab install cell: first in every notebook, pointing at the book's repository, a no-op
outside Colab, and installing only xai_lib inside it."""

import shlex
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement

from xai_lib.booktools.notebooks import (
    COLAB_INSTALL_CELL,
    REPOSITORY_URL,
    first_code_cell,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


class FakeShell:
    """Stands in for get_ipython(): records the magics the cell runs instead of running them."""

    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line, _stack_depth=1):
        self.magics.append((name, line))


def run_cell(shell: FakeShell) -> None:
    python = TransformerManager().transform_cell(
        COLAB_INSTALL_CELL
    )  # %pip -> get_ipython().run_line_magic(...)
    exec(compile(python, "<install cell>", "exec"), {"get_ipython": lambda: shell})


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_the_install_cell(path):
    first = first_code_cell(nbformat.read(path, as_version=4))
    assert first is not None and first.rstrip() == COLAB_INSTALL_CELL, (
        f"{path.name}: the first code cell must be xai_lib.booktools.notebooks.COLAB_INSTALL_CELL:\n"
        f"{COLAB_INSTALL_CELL}"
    )


def test_the_cell_installs_from_the_books_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert REPOSITORY_URL == config["repository"]["url"]
    assert f"git+{REPOSITORY_URL}" in COLAB_INSTALL_CELL
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_outside_colab_the_cell_does_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = FakeShell()
    run_cell(shell)
    assert shell.magics == []


def test_in_colab_the_cell_installs_only_xai_lib(monkeypatch):
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    shell = FakeShell()
    run_cell(shell)
    assert len(shell.magics) == 1
    name, line = shell.magics[0]
    words = shlex.split(line)
    assert name == "pip" and words[0] == "install"
    packages = [w for w in words[1:] if not w.startswith("-")]
    assert packages == [
        f"xai_lib @ git+{REPOSITORY_URL}"
    ]  # nothing Colab already has: no torch, no numpy
    requirement = Requirement(packages[0])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (
        requirement.name == project["name"]
        and requirement.url == f"git+{REPOSITORY_URL}"
    )
    assert not requirement.extras
