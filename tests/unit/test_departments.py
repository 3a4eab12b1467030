"""The departments file: the default one ships sound, and mistakes are named precisely."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from flows.config import DEFAULT_DEPARTMENTS
from models.departments import (
    CHANNELS,
    DepartmentBook,
    DepartmentsFileError,
    load_departments,
    parse_departments,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DEPARTMENTS = ROOT / "bench" / "departments"


@pytest.fixture(scope="module")
def book() -> DepartmentBook:
    return load_departments(DEFAULT_DEPARTMENTS)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_DEPARTMENTS.read_text(encoding="utf-8"))


def test_default_file_is_where_the_settings_point_and_loads(book):
    assert DEFAULT_DEPARTMENTS.name == "departments.yaml"
    assert book.names == (
        "Field Operations",
        "Network",
        "Billing",
        "Digital",
        "Digital Self-Service",
        "Logistics",
        "Customer Service",
        "TV Product",
        "Sales",
        "Sales (Home Moves)",
        "Retention",
        "Customer Experience",
    )
    assert "needs triage" not in {n.lower() for n in book.names}
    assert "triage" not in " ".join(book.names).lower()


def test_default_departments_are_described_well_enough_to_route(book):
    for department in book:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", department.description) if s]
        assert 2 <= len(sentences) <= 4, (department.name, sentences)
        assert 10 <= len(department.keywords) <= 25, department.name
        assert 3 <= len(department.examples) <= 8, department.name
        assert department.head.endswith("@lumen-broadband.example")
        assert all(k == k.lower().strip() for k in department.keywords)


def test_default_costs_are_realistic(book):
    default = book.default.cost_per_contact
    # a formal complaint costs most, a survey response least
    assert default.complaint > default.call > default.email > default.survey > 0
    for department in book:
        for channel in CHANNELS:
            cost = book.cost(department.name, channel)
            assert 0.1 <= cost <= 30.0, (department.name, channel, cost)


def test_cost_uses_the_department_figure_then_the_default(book):
    assert book.cost("Field Operations", "call") == 5.60  # its own figure
    assert book.cost("Field Operations", "email") == 3.20  # the default
    assert book.cost("field operations", "complaint") == 14.50  # names are case-insensitive
    assert book.cost(None, "survey") == 0.40  # triage: the default
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        book.cost("Billing", "fax")
    with pytest.raises(KeyError, match="no department called 'Marketing'; known: Field"):
        book.cost("Marketing", "call")


def test_cost_rows_cover_every_department_channel_and_triage(book):
    rows = book.cost_rows()
    assert len(rows) == (len(book) + 1) * len(CHANNELS)
    triage = {r["channel"]: r["cost_per_contact"] for r in rows if r["department"] is None}
    assert triage == {"survey": 0.40, "complaint": 12.00, "email": 3.20, "call": 4.80}


def test_lookups(book):
    assert "billing" in book and "Nope" not in book and 3 not in book
    assert book.canonical_name("  digital self-service ") == "Digital Self-Service"
    assert book.head("Billing") == "head.billing@lumen-broadband.example"
    assert len(book) == 12


def test_fingerprint_changes_with_content(raw):
    first = parse_departments(raw)
    changed = copy.deepcopy(raw)
    changed["departments"][0]["keywords"].append("ladder")
    assert parse_departments(copy.deepcopy(raw)).fingerprint == first.fingerprint
    assert parse_departments(changed).fingerprint != first.fingerprint


def test_every_mistake_is_reported_at_once_naming_file_and_field(raw):
    raw["departments"][2]["head"] = "billing"
    raw["departments"][0]["keyword"] = ["ladder"]  # a typo for keywords
    del raw["departments"][1]["description"]
    raw["default"]["cost_per_contact"]["call"] = -1
    with pytest.raises(DepartmentsFileError) as caught:
        parse_departments(raw, source="my.yaml")
    message = str(caught.value)
    assert message.startswith("4 problems in the departments file:")
    assert "my.yaml: departments[2] (Billing) → head: 'billing' is not an e-mail address" in message
    assert "my.yaml: departments[0] (Field Operations) → keyword: is not a known field" in message
    assert "my.yaml: departments[1] (Network) → description: is required" in message
    assert (
        "my.yaml: default → cost_per_contact → call: Input should be greater than or equal to 0"
        in message
    )


def test_duplicate_names_and_an_empty_book_are_refused(raw):
    twice = copy.deepcopy(raw)
    twice["departments"][3]["name"] = "billing"
    with pytest.raises(DepartmentsFileError, match="two departments are called 'billing'"):
        parse_departments(twice, "x.yaml")
    empty = {"default": raw["default"], "departments": []}
    with pytest.raises(
        DepartmentsFileError, match=r"x.yaml: departments: needs at least 1 item\(s\), has 0"
    ):
        parse_departments(empty, "x.yaml")


def test_default_costs_need_every_channel(raw):
    del raw["default"]["cost_per_contact"]["survey"]
    with pytest.raises(
        DepartmentsFileError, match=r"default → cost_per_contact → survey: is required"
    ):
        parse_departments(raw, "x.yaml")


def test_small_conveniences():
    book = parse_departments(
        {
            "default": {"cost_per_contact": {"survey": 1, "complaint": 2, "email": 3, "call": 4}},
            "departments": [
                {
                    "name": "  Ops  ",
                    "description": "Runs   things.\nWell.",
                    "keywords": "Outage",  # one keyword, not a list of letters
                    "head": "Ops.Head@Example.COM",
                }
            ],
        }
    )
    ops = book.get("ops")
    assert ops.name == "Ops" and ops.description == "Runs things. Well."
    assert ops.keywords == ("outage",) and ops.examples == ()
    assert ops.head == "ops.head@example.com"


def test_file_level_errors(tmp_path):
    with pytest.raises(DepartmentsFileError, match=r"nowhere.yaml: no such departments file"):
        load_departments(tmp_path / "nowhere.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("default:\n  cost_per_contact: {survey: 1\ndepartments: []\n")
    with pytest.raises(DepartmentsFileError, match=r"broken.yaml: not valid YAML at line \d+"):
        load_departments(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- name: Billing\n")
    with pytest.raises(DepartmentsFileError, match=r"list.yaml: expected a mapping .* got list"):
        load_departments(listing)


@pytest.mark.parametrize("name", ["airline.yaml", "tickets.yaml"])
def test_benchmark_department_files_load(name):
    book = load_departments(BENCH_DEPARTMENTS / name)
    assert len(book) >= 7
