"""Inputs named by fsspec URLs (``s3://``, ``gs://``, ``memory://``...).

:func:`locate` makes a :class:`UrlPath` of a URL: a path whose ``open`` and ``stat`` go through
fsspec, so that every reader, planner and worker reads it as it reads a local file, and whose
``str()`` is the URL, so that rejections name it.  fsspec is imported only when a URL is met.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path, PosixPath
from typing import Any

from ._i18n import _
from ._inputs import InputError

#: ``scheme://`` as a path keeps it, or ``scheme:/`` once ``pathlib`` has folded its slashes.
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+):/(?P<rest>.*)", re.DOTALL)


def locate(name: str | Path) -> Path:
    """The input ``name``: a local path, or a :class:`UrlPath` for an fsspec URL.

    ``file://`` URLs become plain local paths.  ``name`` may be a :class:`~pathlib.Path`
    made of a URL, whose ``//`` pathlib has folded into ``/`` (a click argument).
    """
    if isinstance(name, UrlPath):
        return name
    text = str(name)
    found = _URL.fullmatch(text)
    if found is None or (isinstance(name, Path) and name.exists()):
        return Path(name)
    scheme, rest = found.group("scheme").lower(), found.group("rest")
    if scheme == "file":
        return Path("/" + rest.lstrip("/"))
    if not text.startswith(f"{found.group('scheme')}://"):
        text = f"{scheme}://{rest.lstrip('/')}"
    return UrlPath.of(text)


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        raise InputError(
            _("{url}: reading URLs needs fsspec: pip install 'rulecore[dask]'").format(url=url)
        ) from None
    try:
        filesystem, inner = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as error:
        raise InputError(
            _("{url}: cannot read this kind of URL: {error}").format(url=url, error=error)
        ) from None
    return filesystem, inner


def _protocols(filesystem: Any) -> tuple[str, ...]:
    protocol = filesystem.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


class UrlPath(PosixPath):
    """A file or folder named by an fsspec URL, read through fsspec.

    Its name and suffixes are those of the URL's path, so readers are chosen as for a local
    file, and ``str()`` gives the URL back, so that rejections name it.
    """

    url: str

    @classmethod
    def of(cls, url: str) -> UrlPath:
        _filesystem(url)  # fail now, saying why, for a protocol fsspec cannot read
        inner = url.split("://", 1)[1]
        path = cls("/" + inner.split("?", 1)[0].lstrip("/"))
        path.url = url
        return path

    def __str__(self) -> str:
        url: str | None = self.__dict__.get("url")
        return url if url is not None else super().__str__()

    def __repr__(self) -> str:
        return f"UrlPath({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (UrlPath.of, (str(self),))

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlPath) and str(self) == str(other)

    def _fs(self) -> tuple[Any, str]:
        return _filesystem(str(self))

    def open(
        self,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        if set(mode) - set("rbt"):
            raise OSError(_("{url}: rulecore only reads URLs").format(url=self))
        filesystem, inner = self._fs()
        try:
            if "memory" in _protocols(filesystem):
                # Its files hand every reader the same file object: give each its own copy,
                # so that readers in several threads keep their own places.
                handle = io.BytesIO(filesystem.cat_file(inner))
            else:
                handle = filesystem.open(inner, "rb")
        except FileNotFoundError:
            raise
        except Exception as error:  # a store's own errors, as the OSError readers expect
            raise OSError(f"{self}: {type(error).__name__}: {error}") from error
        if "b" in mode:
            return handle
        return io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline=newline)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        filesystem, inner = self._fs()
        info = filesystem.info(inner)
        kind = stat.S_IFDIR if info.get("type") == "directory" else stat.S_IFREG
        return os.stat_result((kind, 0, 0, 1, 0, 0, int(info.get("size") or 0), 0, 0, 0))

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        filesystem, inner = self._fs()
        return bool(filesystem.exists(inner))

    def is_file(self) -> bool:
        filesystem, inner = self._fs()
        return bool(filesystem.isfile(inner))

    def is_dir(self) -> bool:
        filesystem, inner = self._fs()
        return bool(filesystem.isdir(inner))

    def rglob(self, pattern: str, **_options: Any) -> Iterator[UrlPath]:  # type: ignore[override]
        """Every file under this folder (the pattern is ``*``: every file)."""
        filesystem, inner = self._fs()
        base, folder = str(self).rstrip("/"), inner.rstrip("/") + "/"
        for found in sorted(filesystem.find(inner)):
            if found.startswith(folder):  # named as the user named the folder
                yield UrlPath.of(f"{base}/{found[len(folder) :]}")
            else:
                yield UrlPath.of(filesystem.unstrip_protocol(found))

    def resolve(self, strict: bool = False) -> UrlPath:
        return self
