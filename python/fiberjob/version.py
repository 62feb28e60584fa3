# SPDX-License-Identifier: MIT
"""The libfiberjob version this package is built against."""
from ._ffi import lib

__all__ = ["__version__", "library_version"]

__version__: str = "%d.%d.%d" % (lib.FJ_VERSION_MAJOR, lib.FJ_VERSION_MINOR,
                                 lib.FJ_VERSION_PATCH)


def library_version() -> str:
    """The "MAJOR.MINOR.PATCH" version of libfiberjob (equal to __version__)."""
    return __version__
