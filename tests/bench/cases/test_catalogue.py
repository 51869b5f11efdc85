"""The parts catalogue: the stock file covers every fault in the unit, and a bad file names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases.catalogue import LABOUR_KINDS, find_catalogue, load_catalogue, parse_catalogue
from bench.errors import PlanError
from bench.faults import FAULTS

ROOT = Path(__file__).resolve().parents[3]
STOCK = ROOT / "testplans" / "parts" / "catalogue.yaml"

GOOD = """\
catalogue: test
version: "1"
currency: EUR
labour_rate: 60
models: [PT-300, PT-500]
parts:
  - {number: P-ICC, name: card reader, models: [PT-300], price: 30, labour_minutes: 20, repairs: [ICC-NO-ATR]}
  - {number: P-ICC-CHEAP, name: card reader (refurbished), models: [PT-300], price: 20, labour_minutes: 20,
     repairs: [card reader]}
  - {number: P5-ICC, name: card reader, models: [PT-500], price: 35, labour_minutes: 25, repairs: [ICC-NO-ATR]}
actions:
  - {id: clean-icc, kind: clean, name: clean the contacts, minutes: 5, repairs: [ICC-NO-ATR]}
"""


def test_the_stock_catalogue_loads_and_is_found_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = load_catalogue(STOCK)
    assert cat.currency == "EUR" and cat.labour_rate > 0 and set(cat.models) == {"PT-300", "PT-500"}
    assert {a.kind for a in cat.actions} <= set(LABOUR_KINDS)
    assert {"reseat", "clean", "reflash", "update", "return-to-factory"} <= {a.kind for a in cat.actions}
    assert any(a.id == "replace-paper" and "PRN-PAPER-END" in a.repairs for a in cat.actions)
    monkeypatch.chdir(tmp_path)
    found = find_catalogue()
    assert found is not None and found.resolve() == STOCK.resolve()
    local = tmp_path / "testplans" / "parts"
    local.mkdir(parents=True)
    (local / "catalogue.yaml").write_text(GOOD)
    assert load_catalogue().name == "test"  # a station's own catalogue first


@pytest.mark.parametrize("model", ["PT-300", "PT-500"])
def test_every_fault_in_the_unit_has_an_action_for_every_model(model: str) -> None:
    cat = load_catalogue(STOCK)
    missing = [f.code for f in FAULTS.values() if f.in_unit and not cat.covers(f.code, model)]
    assert missing == []
    assert not cat.covers("BENCH-PORT", model)  # the bench's faults are not repaired on the unit


def test_every_kind_of_work_is_a_repair_action_the_case_store_records() -> None:
    from bench.cases.model import ACTIONS

    assert {*LABOUR_KINDS, "replace"} <= set(ACTIONS)


def test_a_model_gets_only_parts_that_fit_it_naming_the_fault_first_then_cheapest() -> None:
    cat = parse_catalogue(GOOD)
    assert [p.number for p in cat.parts_for("ICC-NO-ATR", "card reader", "PT-300")] == ["P-ICC", "P-ICC-CHEAP"]
    assert [p.number for p in cat.parts_for("ICC-NO-ATR", "card reader", "PT-500")] == ["P5-ICC"]
    assert [a.id for a in cat.actions_for("ICC-NO-ATR", "card reader", "PT-500")] == ["clean-icc"]
    assert cat.parts_for("PRN-CUTTER", "autocutter", "PT-300") == []


@pytest.mark.parametrize(("old", "new", "line", "field", "says"), [
    ("repairs: [ICC-NO-ATR]}\n  - {number: P-ICC-CHEAP", "repairs: [ICC-NO-ATRR]}\n  - {number: P-ICC-CHEAP", 7,
     "parts[0].repairs", "neither a fault code nor a suspected part of the fault table; did you mean 'ICC-NO-ATR'?"),
    ("price: 35", "price: -1", 10, "parts[2].price", "price must be a number from 0"),
    ("price: 35", "price: lots", 10, "parts[2].price", "price must be a number"),
    ("labour_minutes: 25", "labour_minutes: 2.5", 10, "parts[2].labour_minutes", "a whole number"),
    ("models: [PT-500], price: 35", "models: [PT-900], price: 35", 10, "parts[2].models",
     "model 'PT-900' is not one of the catalogue's models"),
    ("number: P5-ICC", "number: P-ICC", 10, "parts[2].number", "duplicate part number 'P-ICC'"),
    ("number: P5-ICC", "number: p5 icc", 10, "parts[2].number", "must be capitals"),
    ("kind: clean", "kind: replace", 12, "actions[0].kind", "kind must be one of reseat, clean"),
    ("minutes: 5", "minuets: 5", 12, "actions[0].minuets", "unknown field 'minuets'; did you mean 'minutes'?"),
    ("currency: EUR", "currency: euro", 3, "currency", "3-letter code"),
    ("labour_rate: 60\n", "", 1, "labour_rate", "missing required field 'labour_rate'"),
])
def test_a_bad_catalogue_is_one_error_naming_file_line_and_field(old: str, new: str, line: int, field: str,
                                                                  says: str, tmp_path: Path) -> None:
    assert old in GOOD
    path = tmp_path / "catalogue.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(PlanError) as err:
        load_catalogue(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert says in err.value.message
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_bad_yaml_and_a_missing_file_are_plan_errors(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text("catalogue: [unclosed\n")
    with pytest.raises(PlanError) as err:
        load_catalogue(path)
    assert err.value.path == str(path) and err.value.line is not None
    with pytest.raises(PlanError):
        load_catalogue(tmp_path / "nothing.yaml")
