"""Text normalisation and a light French stemmer, applied at index and query time alike.

English stemming is FTS5's `porter` tokenizer. French words are stemmed here with a light stemmer
in the manner of Savoy's (J. Savoy, "Light stemming approaches for the French, Portuguese, German
and Hungarian languages", 2006; Lucene's FrenchLightStemmer follows it): plural and feminine
endings and the common derivational suffixes, no dictionary. It is ~40 lines of pure Python, so
the package gains no dependency (snowballstemmer would add ~2 MB installed and an import per
container). The index stores each word's French stem beside the word; porter then sees both.
"""

import re
import unicodedata
from functools import lru_cache

WORD = re.compile(r"\w+")
# Longest first: the first suffix that leaves a stem of at least 3 letters is removed.
SUFFIXES = ("issements", "issement", "atrices", "ateurs", "ations", "atrice", "ateur", "ation", "ements",
            "ement", "ments", "ment", "ances", "ences", "ance", "ence", "ites", "ite", "ives", "ifs", "ive",
            "if", "euses", "euse", "eux", "istes", "iste", "ismes", "isme", "iques", "ique", "ables", "able",
            "eurs", "eur", "ieres", "iere", "iers", "ier", "ees", "ee", "es", "er", "ez", "e", "s")


def normalise(text: str) -> str:
    """Lower case, accents removed (é → e, œ → oe), as FTS5's `remove_diacritics 2` does."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return WORD.findall(normalise(text))


@lru_cache(maxsize=100_000)  # a catalogue's vocabulary is far smaller than its word count
def french_stem(word: str) -> str:
    """The light French stem of a normalised word (`chaussures` → `chaussur`, `bleues` → `bleu`,
    `chevaux` → `cheval`); words under 5 letters are left alone."""
    if len(word) < 5 or not word.isalpha():
        return word
    if word.endswith("aux"):
        return word[:-3] + "al"
    if word.endswith("x"):
        word = word[:-1]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1].isalpha():
        word = word[:-1]  # doubled final consonant: "bonne" -> "bonn" -> "bon"
    return word


def within_one_edit(a: str, b: str) -> bool:
    """True when b is a (insert, delete, substitute, swap adjacent letters) away from a, or equal."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def deletes(word: str) -> set[str]:
    """The word with one letter removed, every way (the symmetric-delete typo candidates)."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}
