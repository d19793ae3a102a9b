"""`liudong report monthly` in its three formats, and its refusals."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from .conftest import PERIOD, resident


def _run(*args) -> str:
    out = io.StringIO()
    call_command("report_monthly", *args, stdout=out)
    return out.getvalue()


def test_json_is_the_designed_shape(villages):
    resident()
    report = json.loads(_run("--region", "330106", "--period", PERIOD, "--format", "json"))
    assert set(report) >= {"region", "period", "generated_at", "indicators", "rows"}
    assert report["indicators"]["inflow_total"] == 1
    assert report["rows"][0] == {
        "region": "330106002",
        "name": "北山街道",
        "indicators": report["rows"][0]["indicators"],
    }


def test_xlsx_looks_like_the_offices_form(villages, tmp_path):
    resident()
    out = tmp_path / "month.xlsx"
    _run("--region", "330106", "--period", PERIOD, "--format", "xlsx", "--out", str(out))
    sheet = load_workbook(out).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "流动人口服务管理月报表"
    assert "西湖区" in cells[1][0] and "2026年10月" in cells[2][0]
    header = cells[3]
    assert header[:3] == ["区划代码", "单位名称", "流出人口总数"]
    total = next(row for row in cells if row[1] == "合计")
    assert total[header.index("流入人口总数")] == 1
    first = cells[4]
    assert first[:2] == ["330106002", "北山街道"] and first[header.index("流入人口总数")] == 1


def test_table_prints_each_indicator_with_the_total(villages):
    resident()
    text = _run("--region", "330106", "--period", PERIOD)
    assert "流入人口总数" in text and "合计" in text and "北山街道" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "not a period"),
        (["--period", "2099-01"], "not begun"),
        (["--period", PERIOD, "--format", "xlsx"], "--out"),
    ],
)
def test_bad_options_are_refused_with_the_rule(villages, capsys, args, message):
    with pytest.raises(SystemExit):
        call_command("report_monthly", "--region", "330106", *args)
    assert message in capsys.readouterr().err


def test_a_staff_account_reports_only_on_its_own_region(township_a, capsys):
    with pytest.raises(SystemExit):
        call_command(
            "report_monthly", "--region", "330106004", "--period", PERIOD, "--user", "township_a"
        )
    assert "outside" in capsys.readouterr().err
