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
    DepartmentsFileError,
    Organisation,
    load_departments,
    parse_departments,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DEPARTMENTS = ROOT / "bench" / "departments"


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_departments(DEFAULT_DEPARTMENTS)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_DEPARTMENTS.read_text(encoding="utf-8"))


def test_default_file_is_where_the_settings_point_and_loads(org):
    assert DEFAULT_DEPARTMENTS.name == "departments.yaml"
    assert org.names == (
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
    assert "needs triage" not in {n.lower() for n in org.names}
    assert "triage" not in " ".join(org.names).lower()


def test_default_departments_are_described_well_enough_to_route(org):
    for department in org:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", department.description) if s]
        assert 2 <= len(sentences) <= 4, (department.name, sentences)
        assert 10 <= len(department.keywords) <= 25, department.name
        assert 3 <= len(department.examples) <= 8, department.name
        assert department.head.endswith("@lumen-broadband.example")
        assert all(k == k.lower().strip() for k in department.keywords)


def test_default_costs_are_realistic(org):
    default = org.default.cost_per_contact
    # a formal complaint costs most, a survey response least
    assert default.complaint > default.call > default.email > default.survey > 0
    for department in org:
        for channel in CHANNELS:
            cost = org.cost(department.name, channel)
            assert 0.1 <= cost <= 30.0, (department.name, channel, cost)


def test_cost_uses_the_department_figure_then_the_default(org):
    assert org.cost("Field Operations", "call") == 5.60  # its own figure
    assert org.cost("Field Operations", "email") == 3.20  # the default
    assert org.cost("field operations", "complaint") == 14.50  # names are case-insensitive
    assert org.cost(None, "survey") == 0.40  # triage: the default
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        org.cost("Billing", "fax")
    with pytest.raises(KeyError, match="no department called 'Marketing'; known: Field"):
        org.cost("Marketing", "call")


def test_cost_rows_cover_every_department_channel_and_triage(org):
    rows = org.cost_rows()
    assert len(rows) == (len(org) + 1) * len(CHANNELS)
    triage = {r["channel"]: r["cost_per_contact"] for r in rows if r["department"] is None}
    assert triage == {"survey": 0.40, "complaint": 12.00, "email": 3.20, "call": 4.80}


def test_lookups(org):
    assert "billing" in org and "Nope" not in org and 3 not in org
    assert org.canonical_name("  digital self-service ") == "Digital Self-Service"
    assert org.head("Billing") == "head.billing@lumen-broadband.example"
    assert len(org) == 12


def test_fingerprint_changes_with_content(raw):
    first = parse_departments(raw)
    changed = copy.deepcopy(raw)
    changed["departments"][0]["keywords"].append("ladder")
    assert parse_departments(copy.deepcopy(raw)).fingerprint == first.fingerprint
    assert parse_departments(changed).fingerprint != first.fingerprint


def test_every_mistake_is_reported_at_once_naming_file_and_field(raw):
    raw["departments"][2]["head"] = ["two", "heads"]
    raw["departments"][0]["keyword"] = ["ladder"]  # a typo for keywords
    del raw["departments"][1]["description"]
    raw["default"]["cost_per_contact"]["call"] = -1
    with pytest.raises(DepartmentsFileError) as caught:
        parse_departments(raw, source="my.yaml")
    message = str(caught.value)
    assert message.startswith("4 problems in the departments file:")
    assert (
        "my.yaml: departments[2] (Billing) → head: should be a name or an e-mail address" in message
    )
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


def test_costs_are_optional_and_a_missing_one_is_unknown_not_zero(raw):
    del raw["default"]["cost_per_contact"]["survey"]
    org = parse_departments(raw, "x.yaml")
    assert org.cost("Field Operations", "survey") is None  # neither its own nor a default
    assert org.cost(None, "survey") is None and org.cost(None, "call") == 4.80
    del raw["default"]
    org = parse_departments(raw, "x.yaml")
    assert org.cost("Field Operations", "call") == 5.60  # its own figure still counts
    assert org.cost("Field Operations", "email") is None
    assert {r["cost_per_contact"] for r in org.cost_rows() if r["department"] is None} == {None}


def test_small_conveniences():
    org = parse_departments(
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
    ops = org.get("ops")
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
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("Billing\n")
    with pytest.raises(
        DepartmentsFileError, match=r"scalar.yaml: expected a list of departments .* got a str"
    ):
        load_departments(scalar)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(DepartmentsFileError, match=r"empty.yaml: .* got an empty file"):
        load_departments(empty)


@pytest.mark.parametrize("name", ["airline.yaml", "tickets.yaml", "bitext.yaml"])
def test_benchmark_department_files_load(name):
    org = load_departments(BENCH_DEPARTMENTS / name)
    assert len(org) >= 7


SEVEN = ROOT / "tests" / "fixtures" / "departments" / "seven.yaml"
SEVEN_NAMES = (
    "Credit Reporting",
    "Debt Collection",
    "Credit Cards",
    "Deposit Accounts",
    "Mortgages",
    "Consumer Lending",
    "Payments",
)


def test_a_new_users_file_with_descriptions_and_keywords_only_loads():
    org = load_departments(SEVEN)
    assert org.names == SEVEN_NAMES
    assert all(d.examples == () and d.head is None for d in org)
    assert {org.cost(d.name, c) for d in org for c in CHANNELS} == {None}  # unknown, not 0


def test_the_shapes_people_write_read_the_same(tmp_path):
    items = yaml.safe_load(SEVEN.read_text(encoding="utf-8"))
    by_name = {d["name"]: {k: v for k, v in d.items() if k != "name"} for d in items}
    expected = load_departments(SEVEN)
    for shape in (
        {"departments": items},
        {"departments": by_name},
        by_name,
        {"default": None, "departments": items},
    ):
        path = tmp_path / "d.yaml"
        path.write_text(yaml.safe_dump(shape, sort_keys=False))
        assert load_departments(path) == expected, shape


def test_head_is_any_identifier():
    items = yaml.safe_load(SEVEN.read_text(encoding="utf-8"))
    heads = ["Dana Whitfield", "D.Whitfield@Example.com", "ops-lead", 40213, "  ", None, "Jo"]
    for item, head in zip(items, heads, strict=True):
        item["head"] = head
    org = parse_departments(items, "d.yaml")
    assert [d.head for d in org] == [
        "Dana Whitfield",
        "d.whitfield@example.com",
        "ops-lead",
        "40213",
        None,
        None,
        "Jo",
    ]


def test_messages_are_true_when_every_department_has_a_mistake():
    items = yaml.safe_load(SEVEN.read_text(encoding="utf-8"))
    for item in items:
        item["keyword"] = item.pop("keywords")  # the same typo in all seven
    with pytest.raises(DepartmentsFileError) as caught:
        parse_departments({"departments": items}, "d.yaml")
    message = str(caught.value)
    assert message.startswith("7 problems in the departments file:")
    assert "has 0" not in message and "at least" not in message
    assert "d.yaml: departments[6] (Payments) → keyword: is not a known field" in message
    # and an empty list is still refused with the true count
    with pytest.raises(DepartmentsFileError, match=r"needs at least 1 item\(s\), has 0"):
        parse_departments({"departments": []}, "d.yaml")


def test_a_top_level_mapping_that_is_not_departments_is_explained():
    with pytest.raises(DepartmentsFileError, match="found top-level keys department"):
        parse_departments({"department": [{"name": "Billing"}]}, "d.yaml")
    with pytest.raises(DepartmentsFileError, match=r"departments\[0\]: should be a department's"):
        parse_departments({"departments": ["Billing"]}, "d.yaml")


def test_a_department_may_have_its_own_webhook_written_as_a_url_or_a_variable(raw):
    changed = copy.deepcopy(raw)
    first, second, third = changed["departments"][:3]
    first["webhook"] = "https://hooks.slack.com/services/T0/B0/SECRET"
    second["webhook"] = "${VOC_HOOK_BILLING}"
    third["webhook"] = "  "
    org = parse_departments(changed)
    one, two, three = list(org)[:3]
    assert one.webhook.endswith("/SECRET") and one.webhook_variable is None
    assert two.webhook_variable == "VOC_HOOK_BILLING"
    assert three.webhook is None
    # where messages go is not routing: adding a webhook keeps the routing fingerprint
    assert org.fingerprint == parse_departments(copy.deepcopy(raw)).fingerprint
    for bad in ("hooks.slack.com/x", "ftp://x/y", "${1BAD}", 42):
        changed["departments"][0]["webhook"] = bad
        with pytest.raises(DepartmentsFileError, match=r"webhook: .*webhook URL"):
            parse_departments(changed, "d.yaml")
