"""Typed answers rewritten as a recogniser writes them: Korean without punctuation, numbers
as words in both languages (digits, percentages, "N배"), for the metamorphic test."""

from __future__ import annotations

import re

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_KO_DIGITS = ["", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]


def en_words(n: int) -> str:
    """An integer in English words."""
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        return _EN_TENS[n // 10] + ("" if n % 10 == 0 else "-" + _EN_ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + en_words(n % 100)
        return _EN_ONES[n // 100] + " hundred" + rest
    if n < 1_000_000:
        rest = "" if n % 1000 == 0 else " " + en_words(n % 1000)
        return en_words(n // 1000) + " thousand" + rest
    return str(n)


def ko_words(n: int) -> str:
    """An integer as Sino-Korean numerals (as Vosk writes them)."""
    if n == 0:
        return "영"
    out = ""
    for unit, name in ((10000, "만"), (1000, "천"), (100, "백"), (10, "십")):
        q, n = divmod(n, unit)
        if q:
            lead = ko_words(q) if unit == 10000 else ("" if q == 1 else _KO_DIGITS[q])
            out += lead + name
    return out + _KO_DIGITS[n]


def spoken(text: str, lang: str) -> str:
    """`text` as a recogniser writes it."""

    def number(m: re.Match[str]) -> str:
        raw = m.group(0).replace(",", "")
        if "." in raw:
            return m.group(0)
        return en_words(int(raw)) if lang == "en" else ko_words(int(raw))

    text = re.sub(r"\d[\d,]*(?:\.\d+)?", number, text)
    if lang == "en":
        return text.replace("%", " percent")
    text = re.sub(r"[.,!?·…]", "", text.replace("%", " 퍼센트"))
    return re.sub(r"\s+", " ", text).strip()
