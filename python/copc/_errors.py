"""The exceptions of copc: one class per kind of failure a caller branches on.

Every error the library reports is a :class:`copc.Error`; the message is the
library's own (the file or URL, and where in it: node, byte offset). Secrets
(keys, tokens) never appear in messages.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every error raised by copc."""


class FormatError(Error, ValueError):
    """The bytes are not a valid LAS/LAZ/COPC file (or are corrupt)."""


class UnsupportedError(Error):
    """A valid file that uses something copc does not handle."""


class IoError(Error, OSError):
    """Reading or writing bytes failed (also an OSError)."""


class NotFoundError(IoError, FileNotFoundError):
    """The file does not exist (also a FileNotFoundError)."""


class NetworkError(IoError, ConnectionError):
    """An HTTP or object-store request failed for good, after retries (also an OSError)."""


class InvalidArgumentError(Error, ValueError):
    """An argument cannot work: a bad option, bounds, dimension name or column type."""


class CancelledError(Error):
    """The operation was stopped on request; nothing was left at the output path."""


__all__ = [
    "Error",
    "FormatError",
    "UnsupportedError",
    "IoError",
    "NotFoundError",
    "NetworkError",
    "InvalidArgumentError",
    "CancelledError",
]
