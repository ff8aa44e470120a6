"""The package's layers, kept: imports point one way, and the book uses public names only.

Every module of ``xai_lib`` is parsed (nothing is imported for the direction checks); each
import of another ``xai_lib`` module must go to a layer its own layer may use. Then
``import xai_lib`` is run in a fresh interpreter to see that it loads no presentation or
book-tooling module, and the chapters' code cells are parsed for the names they reach.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import xai_lib as xl

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xai_lib"
BOOK = ROOT / "book"

#: layer -> the layers it may import (besides itself). The top-level __init__ may import all.
ALLOWED = {
    "_core": set(),
    "methods": {"_core"},
    "relevance": {"_core"},
    "data": {"_core"},
    "models": {"_core", "data"},  # the zoo's training script reads the bundled data
    "analysis": {"_core", "methods", "relevance"},
    "viz": {"_core", "methods", "analysis"},
    "widgets": {"_core", "viz"},
    "exercises": {"_core", "methods", "relevance", "data", "models", "analysis", "viz"},
    "booktools": {"_core", "exercises"},
}
REFERENCE_LIBRARIES = ("captum", "zennit", "pytorch_grad_cam")
#: loaded by `import xai_lib` never: plotting, widgets, the book's tooling
NOT_AT_IMPORT = (
    "matplotlib",
    "ipywidgets",
    "nbformat",
    "sphinx",
    "xai_lib.viz",
    "xai_lib.widgets",
    "xai_lib.exercises",
    "xai_lib.booktools",
)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


#: modules that sit in another layer than their folder's
LAYER_OF_MODULE = {
    "xai_lib.exercises.__main__": "booktools"
}  # the course's command line


def layer_of(name: str) -> str | None:
    """xai_lib.methods.gradients -> methods; xai_lib (the package itself) -> None."""
    if name in LAYER_OF_MODULE:
        return LAYER_OF_MODULE[name]
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from . import x` and `from .. import data` name modules too
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative.with_suffix(".py")).exists() or (ROOT / relative).is_dir()


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_imports_point_down_the_layers(path):
    own = layer_of(module_name(path))
    if own is None:
        return  # the top-level package assembles the public API from every layer
    problems = []
    for line, target in imports(path):
        if target.split(".")[0] in REFERENCE_LIBRARIES:
            problems.append(
                f"line {line}: imports {target}, a test-only reference library"
            )
        if not target.startswith("xai_lib.") or not is_module(target):
            continue
        other = layer_of(target)
        if other != own and other not in ALLOWED[own]:
            problems.append(f"line {line}: {own} imports {target} ({other})")
    assert not problems, f"{module_name(path)}:\n" + "\n".join(problems)


def test_every_module_belongs_to_a_layer():
    layers = {layer_of(module_name(p)) for p in modules()} - {None}
    assert layers == set(ALLOWED), f"layers without rules: {layers - set(ALLOWED)}"


def test_import_loads_no_presentation_or_book_tooling():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, xai_lib; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    unwanted = [
        m
        for m in loaded
        if m.split(".")[0] in NOT_AT_IMPORT or m.startswith(NOT_AT_IMPORT)
    ]
    assert not unwanted, f"import xai_lib loads {unwanted}"


def test_lazy_namespaces_are_reachable():
    assert xl.viz.heatmap and xl.widgets.explorer and xl.exercises.Feedback
    for name in xl.__all__:
        assert getattr(xl, name) is not None, name


def test_public_namespaces_import_under_their_short_names():
    import xai_lib.metrics as metrics  # noqa: PLC0415
    from xai_lib.spectral import low_pass  # noqa: PLC0415

    assert metrics is xl.metrics and low_pass is xl.spectral.low_pass


# --------------------------------------------------------------------------- the book


def code_cells() -> list[tuple[str, str]]:
    cells = []
    for path in sorted(BOOK.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                # IPython magics are not Python: a `pass` in their place keeps blocks whole
                source = re.sub(r"^(\s*)%.*$", r"\1pass", source, flags=re.M)
                cells.append((path.name, source))
    return cells


def public(namespace, name: str) -> bool:
    if name.startswith("_") or not hasattr(namespace, name):
        return False
    exported = getattr(namespace, "__all__", None)
    return exported is None or name in exported


def test_the_book_reaches_public_names_only():
    problems = set()
    for notebook, source in code_cells():
        for top, attribute in re.findall(r"\bxl\.(\w+)(?:\.(\w+))?", source):
            if not public(xl, top):
                problems.add(f"{notebook}: xl.{top}")
            elif attribute and isinstance(getattr(xl, top), type(xl)):
                if not public(getattr(xl, top), attribute):
                    problems.add(f"{notebook}: xl.{top}.{attribute}")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "xai_lib"
            ):
                namespace = xl
                for part in node.module.split(".")[1:]:
                    if not public(namespace, part):
                        problems.add(f"{notebook}: from {node.module}")
                        break
                    namespace = getattr(namespace, part)
                else:
                    for alias in node.names:
                        if not public(namespace, alias.name):
                            problems.add(f"{notebook}: {node.module}.{alias.name}")
    assert not problems, "\n".join(sorted(problems))


#: import name -> distribution name, where the two differ
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "IPython": "ipython",
}


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_every_package_the_book_imports_is_declared():
    standard = sys.stdlib_module_names
    declared = declared_distributions()
    missing = set()
    for notebook, source in code_cells():
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in standard or top == "xai_lib":
                    continue
                if DISTRIBUTIONS.get(top, top).lower() not in declared:
                    missing.add(f"{notebook}: {top}")
    assert not missing, "undeclared in pyproject.toml:\n" + "\n".join(sorted(missing))
