"""Word lists the recognizers share, loaded once: surnames, English given names, and the jieba
dictionary (shipped inside the jieba package) reduced to what the PERSON recognizer needs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def data_words(name: str) -> list[str]:
    text = resources.files("guardline.pii").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]


@dataclass(frozen=True, slots=True)
class Lexicon:
    surnames: frozenset[str]  # single characters
    compound_surnames: frozenset[str]  # 欧阳, 司马 …
    given_chars: frozenset[str]  # characters seen in given names
    stop_chars: frozenset[str]  # characters that end a name (的, 是, 电 …)
    words: frozenset[str]  # common 2–4 character words that are not person names
    common: frozenset[str]  # frequent words (周五, 夏天): not a name even when a name-like word follows
    very_common: frozenset[str]  # words so frequent that even after 收件人 they are not a name (信息, 那里)
    en_first_names: frozenset[str]
    en_common: frozenset[str]  # frequent English words, never part of a name


def _jieba_dict() -> Path:
    import jieba  # the package ships its dictionary; imported lazily, it is only data here

    return Path(jieba.__file__).with_name("dict.txt")


@functools.cache
def compound_surnames() -> frozenset[str]:
    """欧阳, 司马, 诸葛 …: read from the shipped list without loading the jieba dictionary."""
    return frozenset(w for w in data_words("surnames_zh.txt") if len(w) == 2)


@functools.cache
def get_lexicon() -> Lexicon:
    zh = data_words("surnames_zh.txt")
    singles = frozenset(w for w in zh if len(w) == 1)
    compounds = compound_surnames()
    words: set[str] = set()
    common: set[str] = set()
    very_common: set[str] = set()
    given: dict[str, int] = {}
    with _jieba_dict().open(encoding="utf-8") as fh:
        for line in fh:
            word, freq, tag = line.rstrip("\n").split(" ")
            n = len(word)
            if n < 2 or n > 4:
                continue
            if tag == "nr":
                # jieba tags person names nr (noisily: idioms too); count given-name characters
                # of two- and three-character entries that start with a known surname.
                if n in (2, 3) and word[0] in singles:
                    for ch in word[1:]:
                        given[ch] = given.get(ch, 0) + 1
                # Frequent two-character "names" are mostly ordinary words jieba mis-tags (安静, 白云).
                if n == 2 and int(freq) >= 300:
                    words.add(word)
                continue
            if int(freq) >= 5:
                words.add(word)
                if int(freq) >= 100:
                    common.add(word)
                if int(freq) >= 3000:
                    very_common.add(word)
    stop = frozenset("".join(data_words("stop_chars_zh.txt")))
    seen = {ch for ch, count in given.items() if count >= 20}
    return Lexicon(
        surnames=singles,
        compound_surnames=compounds,
        given_chars=frozenset((seen | set("".join(data_words("given_chars_zh.txt")))) - stop),
        stop_chars=stop,
        words=frozenset(words),
        common=frozenset(common),
        very_common=frozenset(very_common),
        en_first_names=frozenset(data_words("first_names_en.txt")),
        en_common=frozenset(data_words("common_words_en.txt")),
    )
