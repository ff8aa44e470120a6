"""Tooling for the book and the course, never loaded by ``import xai_lib``.

* :mod:`.sphinx`: the Sphinx extension that marks the book build; :mod:`.api` (the API
  reference page) and :mod:`.bibliography` (the citation style) are extensions too;
* :mod:`.myst`: the MyST directives of the chapters, read just far enough;
* :mod:`.chapters`: a chapter notebook's chapter, exercises and answers;
* :mod:`.notebooks`: the chapter conventions (the Colab install cell, gated solutions,
  checker cells), their lint, and the plain student edition;
* :mod:`.nbgrader` and :mod:`.course`: the graded edition, an nbgrader course;
* :mod:`.slicing`, :mod:`.kernel` and :mod:`.grading`: the ``grade`` command;
* :mod:`.site`: the rendered book without solutions.

``python -m xai_lib.exercises`` is their command line.
"""
