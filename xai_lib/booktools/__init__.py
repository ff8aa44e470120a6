"""Tooling for the book and the course, never loaded by ``import xai_lib``.

* :mod:`.sphinx`: the Sphinx extension that marks the book build;
* :mod:`.notebooks`: the chapter notebooks' conventions (the Colab install cell, gated
  solutions, checker cells), their lint, and the student edition.

``python -m xai_lib.exercises`` is their command line.
"""
