"""English renderings of contacts in other languages (models/rendering.py): which
languages voc can render, and Apertium run on a batch keeps every text in its place."""

from __future__ import annotations

import shutil

import pytest

from models.rendering import Apertium, engines_into, renderable, renderer

APERTIUM = renderer("es", "en")
needs_apertium = pytest.mark.skipif(
    APERTIUM is None, reason="Apertium's spa-eng is not installed (scripts/setup.sh)"
)


def test_only_pairs_with_an_offline_engine_are_rendered():
    for written_in in ("de", "fr", "pl", "pt", "nl", "und", "en"):
        assert renderer(written_in, "en") is None
    assert renderer("es", "fr") is None  # an engine renders into one language only
    assert set(renderable(["de", "es", "es", "pl"], "en")) == ({"es"} if APERTIUM else set())


@needs_apertium
def test_a_batch_keeps_each_text_in_its_place_whatever_it_holds():
    texts = [
        "Me han cobrado dos veces la misma factura este mes.",
        "",
        "El técnico no vino.\nEsperé todo el día en casa, <PERSON>.\r\n\r\nNadie llamó.",
        "¿Dónde está mi reembolso? [urgente] {x} \\ $1 <b>no</b> \u2028 \x00 😡",
        "   ",
        "Hola " * 2000,  # cut at MAX_CHARS
        "No tengo internet desde el lunes.",
    ]
    out = APERTIUM.render(texts)
    assert len(out) == len(texts)
    assert "charged me twice" in out[0] and "bill" in out[0]
    assert out[1] == "" and out[4] == ""
    assert "technician" in out[2] and "\n" not in out[2] and "<PERSON>" in out[2]
    assert "internet" in out[6] and "Monday" in out[6]
    # a text's rendering does not depend on its batch
    assert APERTIUM.render([texts[6]]) == [out[6]]
    assert APERTIUM.render([texts[2], texts[0]]) == [out[2], out[0]]


@needs_apertium
def test_an_engine_that_fails_says_so():
    broken = Apertium("xxx-yyy", shutil.which("apertium"))
    with pytest.raises(RuntimeError, match="apertium xxx-yyy failed"):
        broken.render(["hola"])


def test_the_engines_into_a_language_are_those_installed_for_it():
    assert engines_into("de") == {}
    assert set(engines_into("en")) == ({"es"} if APERTIUM else set())
