"""Where the library runs: inside ``jupyter-book build`` or not.

The book's Sphinx extension (:mod:`xai_lib.booktools.sphinx`) sets :data:`BOOK_BUILD_ENV` in the
build process; the kernels it starts inherit it. There, explorers draw their static fallback,
progress bars stay off and failed exercise checks stop the build.
"""

from __future__ import annotations

import os

#: Set to "1" in the book build's process by the Sphinx extension in xai_lib.widgets; the kernels
#: the build starts inherit it.
BOOK_BUILD_ENV = "XAI_LIB_BOOK_BUILD"


def in_book_build() -> bool:
    """True inside a kernel started by ``jupyter-book build`` (see :data:`BOOK_BUILD_ENV`)."""
    return os.environ.get(BOOK_BUILD_ENV, "") not in ("", "0")
