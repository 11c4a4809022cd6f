"""The record ids an audit has read, kept in a few bytes each.

Every id read is remembered, so that a second record with an id already audited is rejected
rather than counted twice.  A million ids held as Python strings in a dict cost about 90 MB;
here each is a 16-byte BLAKE2b digest packed into one of 65,536 byte arrays, with the index of
the file it came from: about 20 bytes an id, 20 MB a million.  Two different ids are taken
for one only if their 128-bit digests collide, which for a billion ids happens about once in
10^20 audits.
"""

from __future__ import annotations

from hashlib import blake2b

_ENTRY = 18  #: 14 bytes of digest after the bucket's 2, and 4 of file index
_REST = slice(2, 16)


class SeenIds:
    """Record ids read so far, and the file each was first read from."""

    __slots__ = ("_buckets", "_count", "_source_index", "_sources")

    def __init__(self) -> None:
        self._buckets: dict[int, bytearray] = {}
        self._sources: list[str] = []
        self._source_index: dict[str, int] = {}
        self._count = 0

    def get(self, record_id: str) -> str | None:
        """The file the id was first read from; ``None`` if it was not read yet."""
        bucket, rest = _split(record_id)
        entries = self._buckets.get(bucket)
        return None if entries is None else self._source_at(entries, rest)

    def setdefault(self, record_id: str, source: str) -> str | None:
        """The file ``record_id`` was first read from, or ``None`` after noting it as read
        from ``source`` now: one look-up for the check every record goes through."""
        bucket, rest = _split(record_id)
        entries = self._buckets.get(bucket)
        if entries is None:
            entries = self._buckets[bucket] = bytearray()
        else:
            earlier = self._source_at(entries, rest)
            if earlier is not None:
                return earlier
        index = self._source_index.get(source)
        if index is None:
            index = self._source_index[source] = len(self._sources)
            self._sources.append(source)
        entries += rest
        entries += index.to_bytes(4, "little")
        self._count += 1
        return None

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and self.get(record_id) is not None

    def __setitem__(self, record_id: str, source: str) -> None:
        """Note ``record_id`` as read from ``source``, unless it was read already."""
        self.setdefault(record_id, source)

    def _source_at(self, entries: bytearray, rest: bytes) -> str | None:
        start = 0
        while True:
            position = entries.find(rest, start)
            if position < 0:
                return None
            if position % _ENTRY == 0:
                index = int.from_bytes(entries[position + 14 : position + _ENTRY], "little")
                return self._sources[index]
            start = position + 1

    def __len__(self) -> int:
        return self._count


def _split(record_id: str) -> tuple[int, bytes]:
    digest = blake2b(record_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return int.from_bytes(digest[:2], "little"), digest[_REST]
