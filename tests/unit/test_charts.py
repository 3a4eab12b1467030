"""Chart data the dashboard draws: what a person reads off the picture must be true."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard import charts


def test_a_week_without_contacts_is_drawn_as_zero_not_bridged():
    trend = pl.DataFrame(
        {
            "theme_id": [1, 1, 2],
            "week_start": [dt.date(2026, 10, 5), dt.date(2026, 10, 19), dt.date(2026, 10, 12)],
            "volume": [3, 4, 5],
            "est_cost": [1.0, 2.0, 3.0],
        }
    )
    chart = charts.theme_small_multiples(trend, {1: "Engineer no-show", 2: "Wi-Fi setup"})
    drawn = chart.data.sort("theme_id", "week_start")
    assert drawn.select("theme", "week_of", "volume").rows() == [
        ("Engineer no-show", "05 Oct", 3),
        ("Engineer no-show", "12 Oct", 0),
        ("Engineer no-show", "19 Oct", 4),
        ("Wi-Fi setup", "05 Oct", 0),
        ("Wi-Fi setup", "12 Oct", 5),
        ("Wi-Fi setup", "19 Oct", 0),
    ]
    spec = chart.to_dict()
    assert spec["spec"]["mark"]["point"], "a theme seen in one week must still show a point"
