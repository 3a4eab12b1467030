"""Language of each text, for a million rows in about a second, as an ISO 639-1 code.

Per-text detectors cost a millisecond each (15 minutes a million rows), so voc votes with
function words instead: whole-word matches of the commonest words of each language, in
Rust regex over the whole column. It is right for the sentences customers write; texts
with no function word at all (a bare "thanks!") get 'und' (undetermined) rather than a
guess. A language column in the source wins over this once its tag is read
(``language_tags``): 'en-GB', 'EN', 'eng', 'English' and 'Deutsch' become 'en' and 'de';
the region a tag names ('GB') is kept apart, for the record's attributes.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

UNDETERMINED = "und"  # ISO 639-2's code for a language that cannot be told

FUNCTION_WORDS = {
    "en": "the and is to my i you it for of not have with this was me can please are be"
    " no in on at but since still been has had we our your why what",
    "de": "der die das und ist nicht ich ein eine mit zu sie es auf für bitte wir mein",
    "fr": "le la les et est pas je un une des pour avec vous il ce que mon bonjour de du",
    "es": "el la los las y es no que un una por para con mi lo se hola gracias de en del",
    "pt": "o os as e é não que um uma por para com meu você obrigado olá está de do da em",
    "it": "il lo gli e è non che un una per con mio sono ciao grazie della",
    "nl": "de het een en is niet ik je met voor van dat mijn zijn graag",
    "pl": "nie się jest że na do mój moja moje mnie proszę czy jak ale już mam dla w z od"
    " tym jestem bardzo witam pozdrawiam dziękuję szanowni państwo",
}
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
# letters English does not use (Latin-1 and Latin Extended-A: é, ü, ñ, ł, ś, ...)
_ACCENTED = "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]"
# whole words, matched in text whose every run of non-word characters has become two
# spaces (see _spaced): the same matches as ``\b(?:...)\b``, which Rust regex cannot run
# in its fast automaton on non-ASCII text (0.8 s vs 0.1 s for 20k multilingual e-mails)
_PATTERNS = {
    lang: r"(?i) (?:" + "|".join(words.split()) + r") " for lang, words in FUNCTION_WORDS.items()
}


def _spaced(texts: pl.Series) -> pl.Series:
    """ " word  word " form: each word between spaces, neighbours never sharing one."""
    return pl.select(pl.lit(" ") + texts.str.replace_all(r"\W+", "  ") + pl.lit(" ")).to_series()


def detect_language(texts: pl.Series) -> pl.Series:
    """ISO 639-1 code per text, or null when no language's function words appear."""
    texts = texts.str.slice(0, 400)  # the start of a text says its language
    result = pl.Series(texts.name, [None] * texts.len(), pl.String)
    # a fast literal pass settles most English text: words no other language here uses
    # (not where accented letters are: an English subject line over a Polish e-mail)
    obvious = (
        texts.str.contains_any(_ENGLISH_ONLY, ascii_case_insensitive=True)
        & ~texts.str.contains(_ACCENTED)
    ).fill_null(False)
    result = result.scatter(obvious.arg_true(), "en")
    if obvious.all():
        return result
    rest_idx = (~obvious).arg_true()
    rest = texts.filter(~obvious)
    spaced = _spaced(rest)
    # every language votes, English too: an English subject over a Polish body is Polish,
    # and where accented letters appear English loses a tie
    counts = pl.DataFrame(
        {lang: spaced.str.count_matches(p).fill_null(0) for lang, p in _PATTERNS.items()}
    ).with_columns(
        pl.col("en").cast(pl.Float64) - 0.5 * rest.str.contains(_ACCENTED).fill_null(False)
    )
    best = counts.select(
        pl.when(pl.max_horizontal(pl.all()) > 0)
        .then(pl.concat_list(pl.all()).list.arg_max())
        .otherwise(None)
        .alias("i")
    )["i"]
    languages = list(_PATTERNS)
    labels = best.replace_strict(dict(enumerate(languages)), default=None, return_dtype=pl.String)
    return result.scatter(rest_idx, labels)


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
