"""The book's API reference, generated from the docstrings: which names are public, and a
directive that documents them.

:func:`public_names` decides what a namespace offers: its ``__all__`` where it has one, else
every function, class and constant its own source defines at top level without a leading
underscore (imports from elsewhere are not its names). :data:`NAMESPACES` lists the public
namespaces in the order of the API page (``book/api.md``).

The Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``) adds the directive::

    ```{xl-api} xai_lib.spectral
    ```

which expands, at build time, to the namespace's docstring (``automodule``), a summary table
(each name linked to its entry, with its first sentence) and one ``autofunction`` /
``autoclass`` / ``py:data`` per public name,
each under its public path (``xai_lib.spectral.expected_frequency``, not the module that
defines it), so that chapters link to ``{py:func}`xl.spectral.expected_frequency
<xai_lib.spectral.expected_frequency>```. A name added to a namespace appears on the page at
the next build without editing the page; ``tests/test_api_page.py`` checks the page covers
every public name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types

#: The public namespaces, in the order of the API page: the package itself (``xl.saliency``,
#: ``xl.METHODS``, ...), then what each layer offers under a short name.
NAMESPACES = (
    "xai_lib",
    "xai_lib.baselines",
    "xai_lib.text",
    "xai_lib.rules",
    "xai_lib.canonize",
    "xai_lib.metrics",
    "xai_lib.spectral",
    "xai_lib.shattered",
    "xai_lib.stats",
    "xai_lib.models",
    "xai_lib.activations",
    "xai_lib.self_explaining",
    "xai_lib.zoo",
    "xai_lib.data",
    "xai_lib.viz",
    "xai_lib.widgets",
    "xai_lib.exercises",
)


def _defined_at_top_level(module: types.ModuleType) -> list[str]:
    """Names a module's own source binds at top level (defs, classes, assignments), in order."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return list(dict.fromkeys(names))


def public_names(namespace: str) -> list[str]:
    """The public names of ``namespace`` (e.g. ``"xai_lib.spectral"``), modules excluded.

    ``__all__`` where the module defines it; otherwise what its own source defines at top
    level and does not start with an underscore. Submodules (namespaces of their own, the
    exercises' chapter modules) are left out: they get their own section.
    """
    module = importlib.import_module(namespace)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in _defined_at_top_level(module) if not n.startswith("_")]
    return [
        n for n in names if not isinstance(getattr(module, n, None), types.ModuleType)
    ]


def submodules(namespace: str) -> list[str]:
    """The modules a namespace lists in ``__all__`` that are no namespace of their own
    (``xai_lib.exercises.ch05``, ...): each gets a section after its parent."""
    module = importlib.import_module(namespace)
    documented = {id(importlib.import_module(n)) for n in NAMESPACES}
    return [
        f"{namespace}.{name}"
        for name in getattr(module, "__all__", [])
        if isinstance(getattr(module, name, None), types.ModuleType)
        and id(getattr(module, name)) not in documented
    ]


def _directive_for(value) -> str:
    if inspect.isclass(value):
        return "autoclass"
    if callable(value):
        return "autofunction"
    return "data"


def _data_doc(namespace: str, name: str, value) -> list[str]:
    """The ``#:`` doc comment of a constant, found in the module of the library that binds
    it to this very object; else a line saying what it is (its value, when short)."""
    import sys

    from sphinx.pycode import ModuleAnalyzer

    candidates = [namespace] + sorted(
        m for m in list(sys.modules) if m.startswith("xai_lib.") and m != namespace
    )
    for module_name in candidates:
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        if getattr(module, name, None) is not value:
            continue
        try:
            docs = ModuleAnalyzer.for_module(module.__name__).find_attr_docs()
        except (
            Exception
        ):  # a module without source (built, frozen): no comments to read
            continue
        comment = docs.get(("", name))
        if comment:
            return [line for line in comment if line.strip()] or []
    shown = repr(value)
    if len(shown) <= 70 and "\n" not in shown:
        return [f"A constant ({type(value).__name__}): ``{shown}``."]
    return [f"A constant ({type(value).__name__})."]


def summary(value) -> str:
    """The first sentence of an object's docstring, on one line, as reStructuredText."""
    doc = inspect.getdoc(value) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", paragraph)[0]
    return plain_text_marks(sentence) if sentence else "(no docstring)"


def api_rst(namespace: str) -> list[str]:
    """The reStructuredText that documents ``namespace``: docstring, summary, every name."""
    module = importlib.import_module(namespace)
    names = public_names(namespace)
    lines = [f".. automodule:: {namespace}", ""]
    summarised = [n for n in names if _directive_for(getattr(module, n)) != "data"]
    if (
        summarised
    ):  # a table of the functions and classes, each linked to its entry below
        lines += [
            ".. list-table::",
            "   :widths: 30 70",
            "   :class: xl-api-summary",
            "",
        ]
        for name in summarised:
            lines += [
                f"   * - :py:obj:`~{namespace}.{name}`",
                f"     - {summary(getattr(module, name))}",
            ]
        lines.append("")
    for name in names:
        value = getattr(module, name)
        kind = _directive_for(value)
        if kind == "data":
            lines += [
                f".. py:data:: {name}",
                f"   :type: {type(value).__name__}",
                "",
            ]
            doc = _data_doc(namespace, name, value)
            lines += [f"   {plain_text_marks(line)}" for line in doc]
        else:
            lines.append(f".. {kind}:: {namespace}.{name}")
            if kind == "autoclass":
                lines.append("   :members:")
        lines.append("")
    return lines


_LITERAL = re.compile(r"(``.+?``)")
_EMPHASIS = re.compile(r"(?<![\w*])\*[A-Za-z][^*]*\*(?![*\w])")
_STRONG = re.compile(r"(?<![\w*])\*\*[A-Za-z][^*]*\*\*(?![*\w])")
_REFERENCE = re.compile(r"(?<=\w)_(?=[\s.,;:!?)\]]|$)")  # name_ : a reference in rst


def plain_text_marks(line: str) -> str:
    """Escape the marks that the library's docstrings use as plain text, outside ````literals````.

    The docstrings are written to read well in ``help()``: ``|a|`` is an absolute value,
    ``x * y``, ``**options`` or ``SmoothGrad^2`` a formula, ``index_add_`` a name. In
    reStructuredText ``|a|`` would be a substitution, a lone ``*`` or ``**`` the start of an
    emphasis, a trailing underscore a reference; all are escaped here. Bullets (``* item``),
    ``**strong**`` pairs and ``*emphasis*`` of a word or phrase are kept.
    """
    pieces = _LITERAL.split(line)
    for i in range(0, len(pieces), 2):  # the even pieces are outside literals
        text = _REFERENCE.sub(r"\\_", pieces[i].replace("|", "\\|"))
        kept: set[int] = set()
        for pattern, width in ((_STRONG, 2), (_EMPHASIS, 1)):
            for match in pattern.finditer(text):
                start, end = match.span()
                kept.update(range(start, start + width))
                kept.update(range(end - width, end))
        stripped = text.lstrip(" ")
        if stripped.startswith("* "):
            kept.add(len(text) - len(stripped))  # a bullet
        pieces[i] = "".join(
            "\\*" if char == "*" and j not in kept else char
            for j, char in enumerate(text)
        )
    return "".join(pieces)


def _escape_docstring(app, what, name, obj, options, lines):
    """autodoc-process-docstring: :func:`plain_text_marks` on every line, outside code blocks."""
    in_block = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        if in_block and stripped and not line.startswith((" ", "\t")):
            in_block = False
        if not in_block and not stripped.startswith(">>>"):
            lines[k] = plain_text_marks(line)
        if stripped.endswith("::"):
            in_block = True


def setup(app):
    """Sphinx extension: the ``xl-api`` directive (needs sphinx.ext.autodoc)."""
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class ApiDirective(SphinxDirective):
        """``{xl-api} xai_lib.<namespace>``: document every public name of the namespace."""

        required_arguments = 1
        has_content = False

        def run(self):
            namespace = self.arguments[0]
            if namespace not in NAMESPACES and not any(
                namespace in submodules(parent) for parent in NAMESPACES
            ):
                raise self.error(f"{namespace} is not a public namespace: {NAMESPACES}")
            source = f"<xl-api {namespace}>"
            content = StringList(api_rst(namespace), source=source)
            holder = nodes.section()
            holder.document = self.state.document
            nested_parse_with_titles(self.state, content, holder)
            return holder.children

    app.add_directive("xl-api", ApiDirective)
    app.connect("autodoc-process-docstring", _escape_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
