"""Text as the search index holds it: each CJK character a token of its own, since
Chinese, Japanese and Korean are written without spaces between words and SQLite's
``unicode61`` tokenizer would make a whole run one token. A query is segmented the same
way and each of its words searched as a phrase, so 删除 finds the characters side by side.

Also the sentences the diff compares: Chinese ends them with 。！？ and no space."""

from __future__ import annotations

import re

# CJK Unified Ideographs (and extension A, compatibility), kana, Hangul syllables.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"([{_CJK}])")
# U+2063 INVISIBLE SEPARATOR: a separator to the tokenizer (not a letter or digit), and
# never in text as written, so taking it out gives the text back exactly.
MARK = "\u2063"
_WORD = re.compile(r'"[^"]*"|\S+')


def segment(text: str) -> str:
    """``text`` with a separator on each side of every CJK character."""
    return _CJK_CHAR.sub(MARK + r"\1" + MARK, text.replace(MARK, ""))


def unsegment(text: str) -> str:
    """The segmented text as it was written."""
    return text.replace(MARK, "")


def fts_query(typed: str) -> str | None:
    """An FTS5 MATCH expression for what was typed: every word (or "quoted phrase") must
    appear, each as a phrase of its tokens; None when nothing searchable was typed."""
    phrases = []
    for word in _WORD.findall(typed):
        tokens = re.findall(r"\w+", segment(word.strip('"')))
        if tokens:
            phrases.append('"' + " ".join(tokens) + '"')
    return " AND ".join(phrases) or None


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.])\s+|\n+")


def sentences(text: str) -> list[str]:
    """Sentences of a text in any of these languages, whitespace trimmed, none empty."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
