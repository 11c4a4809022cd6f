"""Text as the phrase lists compare it: one form for full-width and half-width, letter case,
and traditional against simplified Chinese, with every character traced back to the original.

Folding, in order:

1. Unicode NFKC, so that full-width ``ｈｅｌｌｏ，`` reads as ``hello,`` and compatibility forms
   (ligatures, circled digits) as their plain letters.  Each base character is normalised with
   the combining marks that follow it, so a decomposed ``é`` composes as it would in the whole
   text, and each folded character still knows where it came from.
2. Case folding (``str.casefold``), so ``HELLO``, ``Hello`` and ``hello`` are one.
3. A small table of traditional characters to simplified (:data:`TRADITIONAL_TO_SIMPLIFIED`):
   the traditional forms of every character in the shipped Chinese phrase lists, and a few
   more common in service chats, so ``謝謝`` matches ``谢谢``.  It is not a converter: a
   traditional character outside the table is left as it is.  Curly quotes and apostrophes fold
   to straight ones here too.

A match in folded text is quoted from the original through :meth:`Folded.original_span`.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

# The traditional forms of every character in phrases/zh.yaml and of some more that service
# chats use often, from OpenCC's s2t conversion when the lists were written (129 pairs), then
# the variants 儘, 係, 繫, 佈, 爲, 啓 and 妳 (the "you" of 妳好).  One character for one, so
# folding keeps offsets.  A character outside the table is left as it is.
_TRADITIONAL = (
    "與專個臨為麗麼買從們會體償關興內寫決況準別辦務動勁協單發號後嗎聽啟諮場壞處實對將盡師帶幫應"
    "開異歸當錄態總憤戶擔換時機來樣歡氣沒滿煩愛現電著碼確稱約級線細紹經給絡網聯節補見規覺訂認讓"
    "議訴話詢該詳誤說請誰諒謂謝負責賬質購貴費賠過還這進遲錢錯長門問間隊際難順預題馬儘係繫佈爲啓妳"
)
_SIMPLIFIED = (
    "与专个临为丽么买从们会体偿关兴内写决况准别办务动劲协单发号后吗听启咨场坏处实对将尽师带帮应"
    "开异归当录态总愤户担换时机来样欢气没满烦爱现电着码确称约级线细绍经给络网联节补见规觉订认让"
    "议诉话询该详误说请谁谅谓谢负责账质购贵费赔过还这进迟钱错长门问间队际难顺预题马尽系系布为启你"
)
_PUNCTUATION = ("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f", "''''\"\"\"\"")

#: Traditional characters (and curly quotes) to the form the phrase lists are written in.
TRADITIONAL_TO_SIMPLIFIED: dict[int, int] = str.maketrans(
    _TRADITIONAL + _PUNCTUATION[0], _SIMPLIFIED + _PUNCTUATION[1]
)


class Folded(NamedTuple):
    """Folded text, and where each of its characters came from in the original."""

    text: str
    #: ``origin[i]`` is the original offset of folded character ``i``; ``None`` when folding
    #: kept every character in place (the common case), so offsets are the same.
    origin: tuple[int, ...] | None
    original_length: int

    def original_offset(self, folded_offset: int) -> int:
        """Where folded offset ``folded_offset`` (up to the end) starts in the original."""
        if self.origin is None:
            return folded_offset
        if folded_offset >= len(self.origin):
            return self.original_length
        return self.origin[folded_offset]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters that folded ``[start, end)`` came from."""
        if self.origin is None:
            return start, end
        if end <= start:
            begin = self.original_offset(start)
            return begin, begin
        last = self.origin[end - 1]
        stop = end
        # The original span runs to the start of the next original character.
        while stop < len(self.origin) and self.origin[stop] == last:
            stop += 1
        return self.origin[start], self.original_offset(stop)


def fold(text: str) -> Folded:
    """``text`` folded for matching (module docstring), with the way back to the original."""
    if text.isascii():
        return Folded(text.lower(), None, len(text))
    # One character for one, so offsets hold: what NFKC would make of full-width forms, and
    # the traditional characters of the table.  Most Chinese text is then already normal.
    text = text.translate(_ONE_FOR_ONE)
    if unicodedata.is_normalized("NFKC", text):
        folded = text.casefold()
        if len(folded) == len(text):  # casefold never shrinks a character, so none grew
            return Folded(folded.translate(TRADITIONAL_TO_SIMPLIFIED), None, len(text))
    return _fold_with_origins(text)


#: Full-width ASCII forms and the ideographic space, as NFKC reads them, with the table.
_ONE_FOR_ONE: dict[int, int] = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    0x3000: 0x20,
    **TRADITIONAL_TO_SIMPLIFIED,
}


def fold_phrase(phrase: str) -> str:
    """A phrase from a list, folded the same way as the text it is looked for in."""
    return fold(phrase).text


def _fold_with_origins(text: str) -> Folded:
    pieces: list[str] = []
    origin: list[int] = []
    for start, cluster in _clusters(text):
        folded = unicodedata.normalize("NFKC", cluster).casefold()
        folded = folded.translate(TRADITIONAL_TO_SIMPLIFIED)
        pieces.append(folded)
        origin.extend([start] * len(folded))
    return Folded("".join(pieces), tuple(origin), len(text))


def _clusters(text: str) -> list[tuple[int, str]]:
    """``(offset, characters)``: each base character with the combining marks after it."""
    clusters: list[tuple[int, str]] = []
    for offset, char in enumerate(text):
        if clusters and unicodedata.combining(char):
            start, chars = clusters[-1]
            clusters[-1] = (start, chars + char)
        else:
            clusters.append((offset, char))
    return clusters
