"""Opening a file a data node reads: only a regular file, never more than a size limit, network faults named.

A pipeline's ``path`` param is untrusted input: it can name ``/dev/zero`` (an
endless stream), a FIFO (a read that never returns), a socket, a folder, or a
file far larger than the step's memory. ``open_source`` refuses each of these
with one line that names the file, before any byte is read where the
filesystem can tell, and while streaming otherwise (a file that grows, a
remote object without a size, a compressed file that inflates). Network
failures (refused, unknown host, timeout) say "could not connect to HOST",
not "file not found".

    with open_source(located, shown=params.path, max_mb=params.max_size_mb) as handle:
        frame = pd.read_csv(handle)

Every refusal is a ``NodeInputError``: retrying cannot help, the user must
change the path or the limit.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import stat
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

from .errors import NodeInputError

__all__ = ["DEFAULT_MAX_SIZE_MB", "open_source", "connection_problem"]

#: the default of a data node's ``max_size_mb`` param
DEFAULT_MAX_SIZE_MB = 1024

_MB = 1024 * 1024

# Exception classes (by name, so no client library is imported here) that mean "the server could not be reached"
# rather than "the server said the file is not there": aiohttp (fsspec's HTTP), botocore (s3fs), httpx, urllib3.
_CONNECT_ERROR_NAMES = frozenset({
    "ClientConnectorError", "ClientConnectorDNSError", "ClientConnectionError", "ServerDisconnectedError",
    "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError", "ClientOSError",
    "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectError", "ConnectTimeout", "ReadTimeout", "NewConnectionError", "MaxRetryError",
})


@contextmanager
def open_source(location: str, shown: str, max_mb: int = DEFAULT_MAX_SIZE_MB) -> Iterator[io.BufferedReader]:
    """``location`` opened for reading bytes, decompressed when its name says so, capped at ``max_mb``.

    ``shown`` is how the user wrote the path (used in messages). Raises ``NodeInputError`` for a path that
    is not a regular file, is over the limit, or whose server cannot be reached; ``FileNotFoundError``
    passes through for the caller to word.
    """
    import fsspec
    from fsspec.compression import compr
    from fsspec.implementations.local import LocalFileSystem
    from fsspec.utils import infer_compression

    limit = max_mb * _MB
    try:
        fs, path = fsspec.core.url_to_fs(location)
        with ExitStack() as stack:
            if isinstance(fs, LocalFileSystem):
                raw: Any = stack.enter_context(_open_local(path, shown, max_mb))
            else:
                _check_remote(fs, path, shown, max_mb)
                raw = stack.enter_context(fs.open(path, "rb"))
            compression = infer_compression(path)
            if compression is not None:
                raw = stack.enter_context(compr[compression](raw, mode="rb"))
            yield io.BufferedReader(_Capped(raw, limit, shown, max_mb, location), buffer_size=1024 * 1024)
    except NodeInputError:
        raise
    except Exception as exc:
        problem = connection_problem(exc, location, f"to read {shown!r}")
        if problem is None:
            raise
        raise NodeInputError(problem) from exc


@contextmanager
def _open_local(path: str, shown: str, max_mb: int) -> Iterator[io.FileIO]:
    """A local regular file, checked before it is opened and again on the opened descriptor.

    The second check closes the gap between the two (a file swapped for a FIFO in between): the
    descriptor is opened non-blocking, so opening a FIFO returns at once instead of waiting for a writer.
    """
    try:
        before = os.stat(path)
    except PermissionError:
        raise NodeInputError(f"file {shown!r} cannot be read: permission denied") from None
    _check_local(before, shown, max_mb)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise NodeInputError(f"file {shown!r} cannot be read: permission denied") from None
    try:
        _check_local(os.fstat(fd), shown, max_mb)
        os.set_blocking(fd, True)
        handle = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def _check_local(info: os.stat_result, shown: str, max_mb: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise NodeInputError(f"{shown!r} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise NodeInputError(f"{shown!r} is {_kind(info.st_mode)}, not a regular file; only files can be read")
    _check_size(info.st_size, shown, max_mb)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _check_remote(fs: Any, path: str, shown: str, max_mb: int) -> None:
    """What the store says about the object: a folder is refused, a known size is checked now."""
    info = fs.info(path)
    kind = info.get("type")
    if kind == "directory":
        raise NodeInputError(f"{shown!r} is a folder, not a file")
    if kind not in (None, "file"):
        raise NodeInputError(f"{shown!r} is a {kind}, not a regular file; only files can be read")
    size = info.get("size")
    if isinstance(size, int):
        _check_size(size, shown, max_mb)


def _check_size(size: int, shown: str, max_mb: int) -> None:
    if size > max_mb * _MB:
        raise NodeInputError(_too_large(shown, max_mb, f"it is {size / _MB:.1f} MB"))


def _too_large(shown: str, max_mb: int, found: str) -> str:
    return f"file {shown!r} is larger than the limit of {max_mb} MB ({found}); raise the node's 'max_size_mb' to read it"


class _Capped(io.RawIOBase):
    """Reads through to ``inner`` and fails once more than ``limit`` bytes came out of it."""

    def __init__(self, inner: Any, limit: int, shown: str, max_mb: int, location: str) -> None:
        super().__init__()
        self._inner, self._limit, self._shown, self._max_mb, self._location = inner, limit, shown, max_mb, location
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(min(len(view), self._limit - self._count + 1))
        except NodeInputError:
            raise
        except Exception as exc:
            problem = connection_problem(exc, self._location, f"while reading {self._shown!r}")
            if problem is None:
                raise
            raise NodeInputError(problem) from exc
        self._count += len(data)
        if self._count > self._limit:
            raise NodeInputError(_too_large(self._shown, self._max_mb, "it kept going past that while being read"))
        view[: len(data)] = data
        return len(data)


def connection_problem(exc: BaseException, location: str, doing: str = "") -> str | None:
    """``could not connect to HOST <doing>: why`` when ``exc`` (or what caused it) is a network failure, else None.

    fsspec's HTTP filesystem turns every failed request into ``FileNotFoundError``; the real reason is
    in the exception's cause, which this follows.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        why = None if isinstance(current, FileNotFoundError) else _network_reason(current)
        if why is not None:
            return f"could not connect to {_host(location)}{' ' + doing if doing else ''}: {why}"
        current = current.__cause__ or current.__context__
    return None


def _network_reason(exc: BaseException) -> str | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc).lower()
    if isinstance(exc, socket.gaierror) or "dns" in " ".join(names).lower() or "name or service not known" in text \
            or "nodename nor servname" in text or "temporary failure in name resolution" in text:
        return "the host name could not be resolved"
    if isinstance(exc, ConnectionRefusedError) or "connection refused" in text or "connect call failed" in text:
        return "the connection was refused"
    if isinstance(exc, TimeoutError) or "timeout" in " ".join(names).lower() or "timed out" in text:
        return "the connection timed out"
    if isinstance(exc, ConnectionError) or names & _CONNECT_ERROR_NAMES:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "the network connection failed"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "the network or host is unreachable"
    return None


def _host(location: str) -> str:
    parts = urlsplit(location)
    if not parts.hostname:
        return location
    return parts.hostname + (f":{parts.port}" if parts.port else "")
