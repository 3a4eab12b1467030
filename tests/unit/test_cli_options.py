"""`voc run` is the three steps in one go: it takes every option of `voc ingest`,
`voc topics` and `voc weekly`, defined once, and hands each on to its step."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import flows.pipeline
import flows.process_setup
from flows.cli import app

STEPS = ("ingest", "topics", "weekly")


def _commands() -> dict:
    return typer.main.get_command(app).commands


def _spec(param) -> tuple:
    return (
        param.param_type_name,
        tuple(param.opts),
        tuple(param.secondary_opts),
        param.default,
        param.multiple,
        getattr(param, "is_flag", False),
        getattr(param, "help", None),
        param.envvar,
    )


@pytest.mark.parametrize("step", STEPS)
def test_run_takes_every_option_of_each_step_defined_the_same_way(step):
    commands = _commands()
    run = {p.name: _spec(p) for p in commands["run"].params}
    for param in commands[step].params:
        assert param.name in run, f"`voc {step}` has {param.opts} but `voc run` lacks it"
        assert run[param.name] == _spec(param), f"{param.opts} differs between {step} and run"


def test_run_has_no_option_no_step_has():
    commands = _commands()
    steps = {p.name for step in STEPS for p in commands[step].params}
    assert {p.name for p in commands["run"].params} <= steps


def test_run_hands_every_option_to_its_step(tmp_path, monkeypatch):
    seen: dict = {}

    class Stop(Exception):
        pass

    def fake_pipeline(paths, *, settings, **options):
        seen.update(options, paths=paths, departments=settings.departments, db=settings.db)
        raise Stop

    monkeypatch.setattr(flows.process_setup, "prestart_prefect_server", lambda: None)
    monkeypatch.setattr(flows.pipeline, "run_pipeline", fake_pipeline)
    departments = tmp_path / "depts.yaml"
    departments.write_text("- name: Billing\n  description: bills\n  keywords: [bill]\n")
    db = tmp_path / "voc.duckdb"
    args = [
        "run",
        str(tmp_path),
        "--channel",
        "complaint",
        "--map",
        "text=Consumer complaint narrative",
        "--received-at",
        "2026-11-20",
        "--only-new",
        "--embedder",
        "tfidf",
        "--max-fit",
        "500",
        "--seed",
        "3",
        "--force",
        "--refit",
        "--week",
        "2026-W47",
        "--departments",
        str(departments),
        "--db",
        str(db),
    ]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, Stop), result.output
    assert seen == {
        "paths": [str(tmp_path)],
        "channel": "complaint",
        "mapping": {"text": "Consumer complaint narrative"},
        "received_at": "2026-11-20",
        "only_new": True,
        "embedder": "tfidf",
        "max_fit": 500,
        "seed": 3,
        "force": True,
        "refit": True,
        "week": "2026-W47",
        "departments": departments,
        "db": Path(db),
    }


def test_run_refuses_bad_step_options_as_the_steps_do(tmp_path):
    runner = CliRunner()
    for args, message in [
        (["--channel", "fax"], "channel must be one of"),
        (["--map", "txt=Comment"], "role 'txt' is unknown"),
        (["--received-at", "yesterday"], "ISO date"),
        (["--embedder", "word2vec"], "choose one of"),
    ]:
        result = runner.invoke(app, ["run", str(tmp_path), *args, "--db", str(tmp_path / "x")])
        assert result.exit_code == 2 and message in result.output, result.output
