"""Every contact's language is an ISO 639-1 code or 'und': source tags read, regions kept
in the attributes, the demo's languages detected, old warehouses migrated."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from flows.intake.language import detect_language, language_tags, settle_languages
from flows.intake.prepare import prepare, with_attribute
from flows.intake.sources import survey


@pytest.mark.parametrize(
    ("tag", "code", "region"),
    [
        ("en", "en", None),
        ("en-GB", "en", "GB"),
        ("en-gb", "en", "GB"),  # tabular sources lower-case the column
        ("en_GB", "en", "GB"),
        ("EN", "en", None),
        ("eng", "en", None),
        ("English", "en", None),
        ("Deutsch", "de", None),
        ("ger", "de", None),
        ("fr-FR", "fr", "FR"),
        ("es-419", "es", "419"),
        ("pt-BR", "pt", "BR"),
        ("Polski", "pl", None),
        ("nl-BE", "nl", "BE"),
        ("und", None, None),  # undetermined: the text decides
        ("", None, None),
        ("zz", None, None),
        ("klingon-ish", None, None),
        ("mul", None, None),  # several languages: no single ISO 639-1 code
    ],
)
def test_a_source_tag_becomes_an_iso_639_1_code_and_its_region(tag, code, region):
    codes, regions = language_tags(pl.Series([tag]))
    assert (codes[0], regions[0]) == (code, region)


# a sentence of each language the demo inbox holds, as customers write them
DEMO_LANGUAGES = {
    "en": "The engineer never turned up and nobody called me to say why.",
    "fr": "Le technicien n'est jamais venu et je suis toujours sans internet depuis lundi.",
    "de": "Der Techniker ist nicht gekommen und ich habe seit Montag kein Internet.",
    "es": "El técnico no vino y llevo una semana sin internet, estoy muy decepcionado.",
    "pl": "Technik nie przyjechał i od poniedziałku nie mam internetu, proszę o pomoc.",
    "pt": "O técnico não apareceu e estou sem internet há uma semana.",
    "nl": "De monteur is niet gekomen en ik heb al een week geen internet.",
}


@pytest.mark.parametrize("language", sorted(DEMO_LANGUAGES))
def test_each_language_of_the_demo_is_detected(language):
    assert detect_language(pl.Series([DEMO_LANGUAGES[language]]))[0] == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # a Spanish message under an English subject and over an English request
        (
            "Price increase\n\nNo entiendo mi factura. Pago £24.99 al mes.\n"
            "Un saludo Please ring me on <PHONE> after 5pm.",
            "es",
        ),
        (
            "Internet down\n\nLeider muss ich mich beschweren. Die Verbindung bricht jeden "
            "Abend ab. Please reply to <EMAIL>.",
            "de",
        ),
        # English with a Polish name in the signature stays English
        (
            "Hello, my complaint from Thursday still hasn't been answered. Your phone line "
            "kept me waiting an hour.\nIt's Michał Wiśniewska",
            "en",
        ),
        # without any word only English uses, the model decides
        ("Me han cobrado dos veces la factura este mes (£72.10).", "es"),
        ("Sehr guter Service, vielen Dank für die schnelle Hilfe.", "de"),
        ("Instalację odwołano bez uprzedzenia, nikt nie zadzwonił.", "pl"),
        # two words fit several languages: undetermined, not a guess
        ("constant dropouts", None),
        ("Excellent", None),
    ],
)
def test_mixed_and_short_texts(text, language):
    assert detect_language(pl.Series([text]))[0] == language


def test_a_source_tag_wins_the_text_decides_without_one_and_too_little_text_is_und():
    tags = pl.Series(["en-GB", None, "und", None, "fr"])
    texts = pl.Series(
        [
            "Nie mam internetu",  # the source says English: the source wins
            DEMO_LANGUAGES["de"],
            DEMO_LANGUAGES["pl"],
            "ok!!",
            "x y z",
        ]
    )
    codes, regions = settle_languages(tags, texts)
    assert codes.to_list() == ["en", "de", "pl", "und", "fr"]
    assert regions.to_list() == ["GB", None, None, None, None]
    assert codes.null_count() == 0


def test_the_region_joins_the_attributes_without_losing_any():
    merged = with_attribute(
        pl.Series([None, '{"plan": "fibre"}', "{}", '{"plan": "adsl"}']),
        "language_region",
        pl.Series(["GB", "ES", "419", None]),
    )
    assert [json.loads(m) for m in merged] == [
        {"language_region": "GB"},
        {"language_region": "ES", "plan": "fibre"},
        {"language_region": "419"},
        {"plan": "adsl"},
    ]


def test_ingest_stores_codes_and_keeps_the_region_a_survey_gave():
    data = (
        "ResponseId,RecordedDate,Q_Language,Plan,Comment\n"
        "R1,2026-10-01,EN-GB,fibre,The engineer never came\n"
        "R2,2026-10-01,ES-ES,adsl,El técnico no vino\n"
        "R3,2026-10-01,,fibre,Der Techniker ist nicht gekommen und ich warte\n"
        "R4,2026-10-01,,fibre,ok\n"
    ).encode()
    batch = prepare(
        survey.parse("nps.csv", data),
        source_file="nps.csv",
        file_date=datetime(2026, 10, 2),
        customer_key=bytes(range(32)),
        now=datetime(2026, 10, 2),
    )
    rows = batch.feedback.sort("source_ref")
    assert rows["language"].to_list() == ["en", "es", "de", "und"]
    attributes = [json.loads(a) if a else {} for a in rows["attributes"]]
    assert [a.get("language_region") for a in attributes] == ["GB", "ES", None, None]
    assert attributes[0]["Plan"] == "fibre"


def test_an_existing_warehouse_gets_codes_and_keeps_regions_and_odd_tags(tmp_path):
    import duckdb

    from warehouse import Warehouse
    from warehouse.db import schema_files

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )
    for version, name, sql in schema_files():
        if version < 7:
            con.execute(sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
    for fid, tag, attributes in [
        ("a", "en-gb", None),
        ("b", "es-es", '{"Plan": "fibre"}'),
        ("c", None, None),
        ("d", "english", None),
        ("e", "fr", None),
    ]:
        con.execute(
            "INSERT INTO feedback (feedback_id, channel, source_file, source_ref, received_at,"
            " text, language, attributes, run_id, ingested_at)"
            " VALUES (?, 'survey', 'f.csv', ?, now(), 'text', ?, ?, 'r', now())",
            [fid, fid, tag, attributes],
        )
    con.close()
    Warehouse(path).migrate()
    with Warehouse(path).read() as con:
        rows = con.sql(
            "SELECT feedback_id, language, attributes FROM feedback ORDER BY feedback_id"
        ).fetchall()
    got = {fid: (language, json.loads(a) if a else None) for fid, language, a in rows}
    assert got == {
        "a": ("en", {"language_region": "GB"}),
        "b": ("es", {"Plan": "fibre", "language_region": "ES"}),
        "c": ("und", None),
        "d": ("und", {"source_language": "english"}),
        "e": ("fr", None),
    }
