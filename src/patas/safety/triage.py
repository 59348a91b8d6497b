"""Risk triage: a pure matcher over per-language lexicons kept as data (`safety/lexicon/*.yaml`).

    hits = triage("me kiero matarrr")     # [Hit(category='self_harm', severity='high', ...)]

Both the message and every lexicon phrase go through the same normalisation (lowercase, no
accents, no apostrophes, number/letter swaps inside words, Spanish sound-alike spellings for a
Spanish lexicon, repeated letters collapsed), so a phrase written plainly also matches the ways
men actually type it. Phrases match whole words; an exclusion (an everyday idiom such as
"me mata de risa") that matches over the same words cancels the hit. Every message is checked
against every language's lexicon: men switch languages mid-sentence.

Phrase syntax (docs/safety.md): `word`, `stem*` (a word starting so), `(a|b c)` (one of),
`*` (up to four words in between), `{name}` (any entry of the file's word list `name`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATEGORIES = ("violence_disclosed", "threat", "self_harm", "child_abuse", "weapons", "crisis")
SEVERITIES = ("high", "medium", "low")
RANK = {"high": 3, "medium": 2, "low": 1}
FOLDS = ("spanish", "none")
GAP = r"(?:\S+ ){0,4}"
BUILTIN_DIR = Path(__file__).resolve().parent / "lexicon"

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_TOKEN = re.compile(r"[a-z0-9@$]+")
_REPEAT = re.compile(r"([a-z])\1+")
_HAS_LEET = re.compile(r"[0-9@$]")
_SPANISH = [
    (re.compile(r"gu(?=[ei])"), "g"),
    (re.compile(r"g(?=[ei])"), "j"),
    (re.compile(r"qu"), "k"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"ll"), "y"),
    (re.compile(r"v"), "b"),
    (re.compile(r"h"), ""),
    (re.compile(r"y\b"), "i"),
]


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and the phrase."""


@dataclass(frozen=True)
class Hit:
    category: str
    severity: str
    phrase: str  # the lexicon phrase, as written in the file
    matched: str  # the normalised words it matched
    language: str


@dataclass(frozen=True)
class Rule:
    category: str
    severity: str
    phrase: str
    regex: re.Pattern[str]
    unless: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Lexicon:
    language: str
    fold: str
    rules: tuple[Rule, ...]
    exclusions: tuple[re.Pattern[str], ...]
    # Per category: all its phrases in one pattern, then the phrases strongest first. Most
    # messages match no category, and one scan per category says so.
    groups: tuple[tuple[re.Pattern[str], tuple[Rule, ...]], ...] = ()

    def normalise(self, text: str) -> str:
        return normalise(text, self.fold)

    def match(self, text: str) -> list[Hit]:
        return self.match_normalised(self.normalise(text))

    def match_normalised(self, norm: str) -> list[Hit]:
        """At most one hit per category: its strongest phrase that no exclusion cancels."""
        norm = f" {norm} "  # every phrase starts with a space and ends before one
        hits: list[Hit] = []
        excluded: list[tuple[int, int]] | None = None
        for any_phrase, rules in self.groups:
            if any_phrase.search(norm) is None:
                continue
            if excluded is None:
                excluded = _spans(self.exclusions, norm)
            hit = self._first_hit(rules, norm, excluded)
            if hit is not None:
                hits.append(hit)
        return hits

    def _first_hit(
        self, rules: tuple[Rule, ...], norm: str, excluded: list[tuple[int, int]]
    ) -> Hit | None:
        for rule in rules:
            for found in rule.regex.finditer(norm):
                span = found.span()
                if _overlaps(span, excluded):
                    continue
                if rule.unless and _overlaps(span, _spans(rule.unless, norm)):
                    continue
                matched = found.group(0).strip()
                return Hit(rule.category, rule.severity, rule.phrase, matched, self.language)
        return None


# --- normalisation -----------------------------------------------------------------------------


def fold_accents(text: str) -> str:
    """Lowercase ASCII: accents dropped ("á" -> "a", "ñ" -> "n"), other non-ASCII removed."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def _leet(token: str) -> str:
    if any(ch.isalpha() for ch in token) and (_HAS_LEET.search(token) is not None):
        return token.translate(_LEET)
    return token


def _fold(words: str, fold: str) -> str:
    """Sound-alike spellings and repeated letters, over space-separated normalised words."""
    if fold == "spanish":
        words = words.replace("ch", "C")
        for pattern, replacement in _SPANISH:
            words = pattern.sub(replacement, words)
        words = words.replace("C", "ch")
    return _REPEAT.sub(r"\1", words)


def normalise_word(word: str, fold: str) -> str:
    return _fold(_leet(word), fold)


def normalise(text: str, fold: str = "none") -> str:
    """Words of the text, normalised, separated by single spaces."""
    cleaned = fold_accents(text).replace("'", "")
    tokens = _TOKEN.findall(cleaned)
    if _HAS_LEET.search(cleaned) is not None:
        tokens = [_leet(tok) for tok in tokens]
    return _fold(" ".join(tokens), fold)


# --- compiling phrases -------------------------------------------------------------------------

_PHRASE_TOKEN = re.compile(r"\{[a-z_]+\}|[()|]|\*|[^\s(){}|*]+\*?")


class _Compiler:
    """Turns one phrase into a regex over normalised text (recursive descent over its tokens)."""

    def __init__(self, phrase: str, fold: str, words: dict[str, list[str]], where: str) -> None:
        self.phrase, self.fold, self.words, self.where = phrase, fold, words, where
        cleaned = fold_accents(phrase).replace("'", "")
        self.tokens = _PHRASE_TOKEN.findall(cleaned)
        self.pos = 0

    def fail(self, problem: str) -> LexiconError:
        return LexiconError(f"{self.where}: phrase {self.phrase!r}: {problem}")

    def compile(self) -> str:
        if not self.tokens:
            raise self.fail("is empty")
        body = self.alternatives()
        if self.pos != len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.pos]!r}")
        return body

    def alternatives(self) -> str:
        options = [self.sequence()]
        while self.pos < len(self.tokens) and self.tokens[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"

    def sequence(self) -> str:
        items: list[str] = []
        while self.pos < len(self.tokens) and self.tokens[self.pos] not in {"|", ")"}:
            items.append(self.item())
        if not items:
            raise self.fail("has an empty choice or group")
        if items[0] == GAP or items[-1] == GAP:
            raise self.fail("a * gap must stand between two words")
        out = ""
        for item in items:
            if out and not out.endswith(GAP):
                out += " "
            out += item
        return out

    def item(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        if token == "(":
            inner = self.alternatives()
            if self.pos >= len(self.tokens) or self.tokens[self.pos] != ")":
                raise self.fail("a ( is not closed")
            self.pos += 1
            return "(?:" + inner + ")"
        if token == "*":
            return GAP
        if token.startswith("{"):
            return self.word_list(token[1:-1])
        return self.word(token)

    def word(self, token: str) -> str:
        stem = token.rstrip("*")
        norm = normalise_word(stem, self.fold)
        if not _TOKEN.fullmatch(stem) or not norm:
            raise self.fail(f"{token!r} is not a word")
        return re.escape(norm) + (r"\S*" if token.endswith("*") else "")

    def word_list(self, name: str) -> str:
        if name not in self.words:
            raise self.fail(f"{{{name}}} is not in the file's `words`")
        parts = [
            _Compiler(entry, self.fold, {}, self.where).compile() for entry in self.words[name]
        ]
        return "(?:" + "|".join(parts) + ")"


def phrase_body(phrase: str, fold: str, words: dict[str, list[str]], where: str) -> str:
    return _Compiler(phrase, fold, words, where).compile()


def compile_phrase(
    phrase: str, fold: str, words: dict[str, list[str]], where: str
) -> re.Pattern[str]:
    """A phrase as a regex over f" {normalised text} ": it starts at a space and ends before one."""
    return re.compile(" " + phrase_body(phrase, fold, words, where) + "(?= )")


# --- loading lexicon files ---------------------------------------------------------------------


def _spans(patterns: Iterable[re.Pattern[str]], norm: str) -> list[tuple[int, int]]:
    return [m.span() for p in patterns for m in p.finditer(norm)]


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise LexiconError(f"{path}: expected a mapping with `language:` (es, en, ...)")
    return data


def _merge(files: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """Files of one language combined: words extended, exclusions and phrases added."""
    merged: dict[str, Any] = {"fold": "none", "words": {}, "exclusions": [], "entries": []}
    for path, data in files:
        merged["fold"] = data.get("fold", merged["fold"])
        for name, entries in (data.get("words") or {}).items():
            merged["words"].setdefault(name, []).extend(str(e) for e in entries)
        merged["exclusions"].extend((path, str(e)) for e in data.get("exclusions") or [])
        for category, by_severity in (data.get("categories") or {}).items():
            if category not in CATEGORIES:
                raise LexiconError(
                    f"{path}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}"
                )
            for severity, phrases in (by_severity or {}).items():
                if severity not in SEVERITIES:
                    raise LexiconError(
                        f"{path}: {category}: unknown severity {severity!r}; use "
                        "high, medium or low"
                    )
                merged["entries"].extend((path, category, severity, p) for p in phrases or [])
    if merged["fold"] not in FOLDS:
        raise LexiconError(f"fold {merged['fold']!r}: use spanish or none")
    return merged


def _rule(
    path: Path, category: str, severity: str, entry: Any, fold: str, words: dict[str, list[str]]
) -> Rule:
    where = f"{path}: {category}.{severity}"
    if isinstance(entry, dict):
        if set(entry) - {"phrase", "unless"} or "phrase" not in entry:
            raise LexiconError(
                f"{where}: {entry!r}: a mapping needs `phrase` and may have `unless`"
            )
        phrase, unless = str(entry["phrase"]), [str(u) for u in entry.get("unless") or []]
    else:
        phrase, unless = str(entry), []
    return Rule(
        category,
        severity,
        phrase,
        compile_phrase(phrase, fold, words, where),
        tuple(compile_phrase(u, fold, words, where) for u in unless),
    )


def build(language: str, files: list[tuple[Path, dict[str, Any]]]) -> Lexicon:
    merged = _merge(files)
    fold, words = merged["fold"], merged["words"]
    rules = [
        _rule(path, cat, sev, entry, fold, words) for path, cat, sev, entry in merged["entries"]
    ]
    rules.sort(key=lambda r: -RANK[r.severity])  # the strongest phrase of a category wins
    exclusions = [
        compile_phrase(p, fold, words, f"{path}: exclusions") for path, p in merged["exclusions"]
    ]
    groups = []
    for category in CATEGORIES:
        mine = tuple(r for r in rules if r.category == category)
        if mine:
            bodies = "|".join(r.regex.pattern[1:].removesuffix("(?= )") for r in mine)
            groups.append((re.compile(f" (?:{bodies})(?= )"), mine))
    return Lexicon(language, fold, tuple(rules), tuple(exclusions), tuple(groups))


def load(dirs: Iterable[Path]) -> tuple[Lexicon, ...]:
    """Every `*.yaml` in the folders, grouped by `language:`; later folders extend earlier ones."""
    by_language: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            data = read_file(path)
            by_language.setdefault(data["language"], []).append((path, data))
    return tuple(build(lang, files) for lang, files in sorted(by_language.items()))


def lexicon_dirs() -> list[Path]:
    from django.conf import settings

    extra = getattr(settings, "SAFETY_LEXICON_DIR", None)
    return [BUILTIN_DIR] + ([Path(extra)] if extra else [])


@lru_cache(maxsize=1)
def lexicons() -> tuple[Lexicon, ...]:
    return load(lexicon_dirs())


def reload() -> None:
    """Forget the loaded lexicons (after a supervisor edited a file)."""
    lexicons.cache_clear()


def triage(text: str, lexicon_set: Iterable[Lexicon] | None = None) -> list[Hit]:
    """Every category hit in the text, at most one per category and language, strongest first."""
    if not text or not text.strip():
        return []
    hits: list[Hit] = []
    for lexicon in lexicon_set if lexicon_set is not None else lexicons():
        seen: set[str] = set()
        for hit in lexicon.match(text):
            if hit.category not in seen:
                seen.add(hit.category)
                hits.append(hit)
    return sorted(hits, key=lambda h: -RANK[h.severity])


def categories_of(hits: Iterable[Hit]) -> set[str]:
    return {hit.category for hit in hits}


def top_severity(hits: Iterable[Hit]) -> str | None:
    ranked = sorted(hits, key=lambda h: -RANK[h.severity])
    return ranked[0].severity if ranked else None
