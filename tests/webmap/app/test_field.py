"""The phone page's routes (:mod:`webmap.app.field`) without a browser: the page holds no
data but its JSON configuration, the service worker may control ``/field``, the page's
assets are served locally. The page itself runs in :mod:`tests.webmap.test_field_page`."""

from __future__ import annotations

import json
import re

from layers.schema import NOT_PROBLEM_REASONS
from webmap.app.field import FIELD_ASSETS


def test_page_carries_its_configuration_as_json_only(client):
    response = client.get("/field")
    assert response.status_code == 200
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    found = re.search(r'<script type="application/json" id="field-config">(.*?)</script>',
                      response.text, re.S)
    assert found, "no configuration block"
    config = json.loads(found.group(1))
    assert config["not_problem_reasons"] == list(NOT_PROBLEM_REASONS)
    assert [v["label"] for v in config["verdicts"]] == ["核查中", "问题", "非问题"]
    assert "__" not in response.text.replace("__TITLE__", "")  # every placeholder filled


def test_service_worker_may_control_the_page(client):
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/field"
    for name in FIELD_ASSETS:
        assert f"/static/{name}" in response.text


def test_the_page_assets_are_served_locally(client):
    for name in FIELD_ASSETS:
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/lvdun-app.js").status_code == 404  # still an allow-list
