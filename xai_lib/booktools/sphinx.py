"""The Sphinx extension of the book (``_config.yml``: ``sphinx.extra_extensions``)."""

from __future__ import annotations

import os

from .._core import BOOK_BUILD_ENV


def setup(app):
    """Sphinx extension: mark the book build (:data:`BOOK_BUILD_ENV`), so that in its kernels
    explorers are drawn statically, the library's progress bars stay off, and exercise checkers
    fail the build instead of showing a failure."""
    os.environ[BOOK_BUILD_ENV] = "1"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
