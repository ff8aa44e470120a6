"""Which cells of a notebook an answer needs: the cells that define it, and what those use.

Grading a chapter does not need its figures or its training runs, only the student's answers
and what they depend on. :func:`needed_cells` walks the code cells backwards from a set of
names (the answers the checkers take) and keeps every cell that binds one of the names it
still needs, or may change it in place (``x[0] = 1``, ``model.train()``, ``fit(model, ...)``),
adding the names that cell reads, functions' global names included (found with
:mod:`symtable`, so a function's own parameters and locals do not count). A cell that cannot
be parsed is kept when it names a needed name, so that its SyntaxError is reported.

The slice runs in notebook order: a student who wrote a helper in another cell, or who uses a
variable of the chapter, gets exactly the cells that make them.
"""

from __future__ import annotations

import ast
import re
import symtable
from dataclasses import dataclass, field


@dataclass
class CellNames:
    """What one code cell does with module-level names."""

    binds: set[str] = field(default_factory=set)  # assigns, defines, imports, deletes
    changes: set[str] = field(default_factory=set)  # may change in place
    uses: set[str] = field(default_factory=set)  # reads at top level
    late: set[str] = field(
        default_factory=set
    )  # globals read by functions, when called
    imports: set[str] = field(default_factory=set)  # names bound by an import
    unconditional: set[str] = field(
        default_factory=set
    )  # bound by a top-level statement
    star: bool = False  # from m import *
    parsed: bool = True
    text: str = ""


def python_source(source: str) -> str:
    """A cell as plain Python: IPython magics and shell lines turned into Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover (ipykernel brings IPython)
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot transform either: leave it to the parser
        return source


def _global_uses(table: symtable.SymbolTable) -> set[str]:
    """Names a function/class/comprehension scope (and its children) reads from the module."""
    used = {
        s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()
    }
    for child in table.get_children():
        used |= _global_uses(child)
    return used


def _global_binds(table: symtable.SymbolTable) -> set[str]:
    """Names a nested scope binds in the module with ``global``."""
    bound = {
        s.get_name()
        for s in table.get_symbols()
        if s.is_declared_global() and s.is_assigned()
    }
    for child in table.get_children():
        bound |= _global_binds(child)
    return bound


def _base_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed(tree: ast.Module) -> set[str]:
    """Names a cell may change in place at module level: the base of an attribute or item
    it stores into, the object whose method it calls, a bare name it passes to a call."""
    changed = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, scopes):
            continue  # their bodies run when called, and see their own names
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
            node.ctx, (ast.Store, ast.Del)
        ):
            changed.add(_base_name(node))
        elif isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) and function.attr.startswith(
                "check_"
            ):
                pass  # an exercise checker reads its argument, it does not change it
            else:
                if isinstance(function, ast.Attribute):
                    changed.add(_base_name(function.value))
                changed |= {a.id for a in node.args if isinstance(a, ast.Name)}
                changed |= {
                    k.value.id for k in node.keywords if isinstance(k.value, ast.Name)
                }
        stack.extend(ast.iter_child_nodes(node))
    return {name for name in changed if name}


def cell_names(source: str) -> CellNames:
    """The module-level names a code cell binds, may change and uses."""
    code = python_source(source)
    names = CellNames(text=source)
    try:
        tree = ast.parse(code)
        table = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:
        names.parsed = False
        return names
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_imported():
            names.imports.add(name)
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            names.binds.add(name)
        if symbol.is_referenced():
            names.uses.add(name)
    for child in table.get_children():
        names.late |= _global_uses(child)
        names.binds |= _global_binds(child)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            names.star = True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.unconditional |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(
            node,
            (
                ast.FunctionDef,
                ast.AsyncFunctionDef,
                ast.ClassDef,
                ast.Import,
                ast.ImportFrom,
            ),
        ):
            names.unconditional |= {
                name for name in names.binds if _binds_directly(node, name)
            }
    names.changes = _changed(tree)
    return names


def _binds_directly(node, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    return any((a.asname or a.name.split(".")[0]) == name for a in node.names)


def needed_cells(sources: list[str], seeds: set[str]) -> list[int]:
    """The positions, in order, of the code cells (``sources``) that the names ``seeds``
    need, and of the cells those need in turn (see the module docstring).

    A name a cell reads at top level is needed from the cells before it; a global name a
    function reads is looked up when the function is called, after the whole notebook ran,
    so any cell may provide it: the walk is repeated with those names until nothing changes.
    """
    analysed = [cell_names(source) for source in sources]
    imported = set().union(*(a.imports for a in analysed)) if analysed else set()
    late: set[str] = set()
    keep: list[int] = []
    while True:
        needed, kept = set(seeds) | late, []
        for index in range(len(sources) - 1, -1, -1):
            names = analysed[index]
            if names.parsed:
                hit = bool(
                    names.star
                    or names.binds & needed
                    or (names.changes - imported) & needed
                )
            else:
                hit = any(re.search(rf"\b{re.escape(n)}\b", names.text) for n in needed)
            if not hit:
                continue
            kept.append(index)
            # a name this cell binds outright, without reading it first, needs no earlier cell
            needed -= names.unconditional - names.uses - late
            needed |= names.uses | names.late
        wider = late | set().union(*(analysed[i].late for i in kept))
        if sorted(kept) == keep and wider == late:
            return keep
        keep, late = sorted(kept), wider
