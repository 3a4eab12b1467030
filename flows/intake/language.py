"""Language of each text, for a million rows in seconds, as an ISO 639-1 code.

Two passes. A literal pass (Aho-Corasick over the whole column) settles the plain English
that is most of a UK or US inbox: words only English uses, and none of the words that
mark a text as written in another language (an English subject line or signature over a
Spanish body is Spanish). Everything else goes to ``py3langid`` (langid.py's naive Bayes
over byte n-grams, its model inside the wheel: ~15,000 texts a second on one core),
restricted to ``LANGUAGES``. A text too short or too unclear to tell (a bare "thanks!",
"Excellent") gets 'und' (undetermined) rather than a guess: themes then read it as the
team's language. A language column in the source wins over this once its tag is read
(``language_tags``): 'en-GB', 'EN', 'eng', 'English' and 'Deutsch' become 'en' and 'de';
the region a tag names ('GB') is kept apart, for the record's attributes.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

UNDETERMINED = "und"  # ISO 639-2's code for a language that cannot be told

# what detection chooses among: the languages of Europe's customers and the world's
# largest ones (a narrower set is more accurate on short texts than langid's 97)
LANGUAGES = (
    "en de fr es pt it nl pl sv da no fi cs sk hu ro bg hr sl el tr ru uk lt lv et ga"
    " ar he hi ur bn zh ja ko vi th id ms tl"
).split()
MIN_LETTERS = 12  # fewer letters than this: 'und'
# langid's normalised probability under which a text is 'und'; a short text (two or three
# words) needs more, since a few n-grams fit several languages ("constant dropouts")
MIN_PROBABILITY = 0.5
SHORT_LETTERS, SHORT_PROBABILITY = 25, 0.9
MAX_CHARS = 400  # the start of a text says its language

# words only English uses among the languages above, as they stand between spaces
_ENGLISH_ONLY = [
    " the ",
    " and ",
    " with ",
    " have ",
    " you ",
    " my ",
    " this ",
    " is not ",
    " please ",
]
# words that mark a text as (partly) in another language: never "obvious English"
_OTHER_MARKERS = [
    f" {w} "
    for w in (
        "el los las por pero muy está estoy llevo tengo gracias hola factura"  # es
        " le les je nous vous est pas avec pour depuis merci bonjour"  # fr
        " der das und ich nicht ist mit mein meine seit bitte danke"  # de
        " nie się jest mam mój moja proszę dziękuję"  # pl
        " não está estou obrigado olá uma"  # pt
        " het een niet ik mijn graag"  # nl
        " il della sono grazie"  # it
    ).split()
]
# letters English does not use (Latin-1 and Latin Extended-A: é, ü, ñ, ł, ś, ...)
_ACCENTED = "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]"


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier  # the packaged model, loaded once

    return _load_identifier(norm_probs=True, langs=list(LANGUAGES))


def detect_language(texts: pl.Series) -> pl.Series:
    """ISO 639-1 code per text, or null where the text is too short or unclear to tell."""
    texts = texts.str.slice(0, MAX_CHARS)
    result = pl.Series(texts.name, [None] * texts.len(), pl.String)
    spaced = pl.select(
        pl.lit(" ") + texts.str.replace_all(r"[^\w']+", " ") + pl.lit(" ")
    ).to_series()
    obvious = (
        spaced.str.contains_any(_ENGLISH_ONLY, ascii_case_insensitive=True)
        & ~spaced.str.contains_any(_OTHER_MARKERS, ascii_case_insensitive=True)
        & ~texts.str.contains(_ACCENTED)
    ).fill_null(False)
    result = result.scatter(obvious.arg_true(), "en")
    letters = texts.str.count_matches(r"[^\W\d_]").fill_null(0)
    rest = (~obvious & (letters >= MIN_LETTERS)).arg_true()
    if rest.len() == 0:
        return result
    marked = (
        spaced.str.contains_any(_OTHER_MARKERS, ascii_case_insensitive=True)
        | texts.str.contains(_ACCENTED)
    ).fill_null(False)
    found = [
        _classify(text, other)
        for text, other in zip(
            texts.gather(rest).to_list(), marked.gather(rest).to_list(), strict=True
        )
    ]
    return result.scatter(rest, pl.Series(found, dtype=pl.String))


def _classify(text: str, marked: bool) -> str | None:
    """One text's language, or None. A text that reads as English overall but carries
    another language's words is read again without its English lines: a Spanish message
    under an English subject line and over an English signature is Spanish."""
    identify = _identifier()
    code, probability = identify.classify(text)
    if code == "en" and marked:
        lines = [
            line
            for line in text.splitlines()
            if not any(w in f" {line.lower()} " for w in _ENGLISH_ONLY)
        ]
        body = " ".join(lines)
        left = sum(ch.isalpha() for ch in body)
        if left >= MIN_LETTERS and 3 * left >= sum(ch.isalpha() for ch in text):
            other, other_probability = identify.classify(body)
            if other != "en" and other_probability >= MIN_PROBABILITY:
                return other
    letters = sum(ch.isalpha() for ch in text)
    needed = SHORT_PROBABILITY if letters < SHORT_LETTERS else MIN_PROBABILITY
    return code if probability >= needed else None


@lru_cache(maxsize=4096)
def _read_tag(tag: str) -> tuple[str | None, str | None]:
    """(ISO 639-1 code, region) of one language tag or name, or (None, None)."""
    import langcodes

    text = tag.strip().replace("_", "-")
    if not text:
        return None, None
    try:
        found = langcodes.Language.get(text)
        if not found.is_valid() or found.language in (None, UNDETERMINED):
            raise LookupError(text)
    except (LookupError, ValueError):
        try:  # a language's name, in English or in itself ("German", "Deutsch")
            found = langcodes.find(text)
        except LookupError:
            return None, None
    code = found.language
    if not code or len(code) != 2:  # no ISO 639-1 code ("mul", "yue"): not one we can name
        return None, None
    return code, found.territory


def language_tags(tags: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A source's language tags as ISO 639-1 codes and the regions they name: ("en",
    "GB") for 'en-GB' or 'en_gb'; null for a tag that names no language (the text is then
    detected). Each distinct tag is read once, so a million rows cost a handful of look-ups."""
    distinct = tags.drop_nulls().unique().to_list()
    read = {tag: _read_tag(tag) for tag in distinct}
    codes = tags.replace_strict(
        {t: c for t, (c, _) in read.items()}, default=None, return_dtype=pl.String
    )
    regions = tags.replace_strict(
        {t: r for t, (_, r) in read.items()}, default=None, return_dtype=pl.String
    )
    return codes.alias("language"), regions.alias("language_region")


def settle_languages(tags: pl.Series, texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Each record's language: its source tag where that names one, else detected from its
    text, else 'und'. Also the region a source tag named (null where none)."""
    codes, regions = language_tags(tags)
    missing = codes.is_null()
    if missing.any():
        codes = codes.scatter(missing.arg_true(), detect_language(texts.filter(missing)))
    return codes.fill_null(UNDETERMINED), regions
