"""The ODK Collect package: the XLSForm converted and validated by pyxform (ODK Validate too
when Java is present), and its entity list ``leads.csv``."""

from __future__ import annotations

import csv
import shutil

import pytest

pyxform = pytest.importorskip("pyxform")
from pyxform.xls2xform import convert  # noqa: E402

from layers.schema import NOT_PROBLEM_REASONS  # noqa: E402
from pipelines.publish.field import field_package  # noqa: E402
from pipelines.publish.views import leads_view  # noqa: E402


@pytest.fixture
def package(classified, tmp_path):
    return field_package(classified, "R01", app="odk", out_dir=tmp_path)


def test_files(package, tmp_path):
    assert [p.name for p in package.files] == ["甲保护区_R01_核查.xlsx", "leads.csv"]


def test_xlsform_is_a_valid_entity_follow_up_form(package):
    # ODK Validate (Java) runs when Java is installed; pyxform's own checks always run
    result = convert(xlsform=str(package.files[0]), validate=shutil.which("java") is not None,
                     form_name="lvdun")
    xform = result.xform
    assert 'entities:entities-version="2024.1.0"' in xform
    assert '<entity dataset="leads" update="1"' in xform
    assert '<instance id="leads" src="jr://file-csv/leads.csv"/>' in xform
    assert '<select1 ref="/lvdun/lead" appearance="map">' in xform  # pick and navigate
    assert 'entities:saveto="status"' in xform
    assert '<bind nodeset="/lvdun/position" type="geopoint" required="true()"/>' in xform
    assert 'mediatype="image/*"' in xform
    assert all(reason in xform for reason in NOT_PROBLEM_REASONS)
    assert package.run_id in xform  # the package identity travels with every submission
    assert not [w for w in result.warnings if "entit" in w.lower()]


def test_entity_list_is_the_reserves_leads(package, classified):
    with package.files[1].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    view = leads_view(classified, by="reserve", codes=["R01"]).set_index("lead_id")
    assert list(rows[0]) == ["name", "label", "geometry", "status", "version"]
    assert sorted(r["name"] for r in rows) == sorted(view.index)
    first = rows[0]
    lat, lon, *_ = map(float, first["geometry"].split())
    assert (lon, lat) == pytest.approx((view.loc[first["name"], "lon"],
                                        view.loc[first["name"], "lat"]))
    assert first["status"] == "待核查" and first["version"] == "1"
    assert first["label"].startswith(first["name"])
