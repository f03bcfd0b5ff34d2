"""Ids a database cannot hold are "not found", on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

HUGE = ["99999999999999999999999", "2147483648", "9" * 4000]


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("role, path", [
    ("nurse", "/admissions/{}"),
    ("nurse", "/admissions/{}/vitals/new"),
    ("nurse", "/units/{}/board"),
    ("admin", "/admin/units/{}"),
    ("admin", "/admin/users/{}"),
])
def test_out_of_range_id_in_path_is_not_found(client, auth, role, path, huge):
    auth.login_as(role)
    response = client.get(path.format(huge))
    assert response.status_code == 404
    assert "There is no such page or record." in response.get_data(as_text=True)


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("path", ["/board?unit={}", "/admit?unit={}"])
def test_out_of_range_id_in_query_is_not_found(client, auth, make_unit, path, huge):
    make_unit()
    auth.login_as("charge_nurse")
    response = client.get(path.format(huge))
    assert response.status_code in (200, 302, 404)
    if response.status_code == 404:
        assert "There is no such page or record." in response.get_data(as_text=True)


def test_largest_id_still_routes(client, auth):
    auth.login_as("nurse")
    assert client.get("/admissions/2147483647").status_code == 404


@pytest.mark.parametrize("query", [
    "upto=3000000000", "upto=99999999999999999999", "page=99999999999999999999",
])
def test_out_of_range_numbers_in_the_audit_search_are_ignored(client, auth, query):
    auth.login_as("auditor")
    response = client.get(f"/audit/?action=any&{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("huge", HUGE)
def test_out_of_range_order_to_change_is_not_found(client, auth, make_admission, huge):
    admission = make_admission()
    auth.login_as("physician")
    response = client.get(f"/admissions/{admission.id}/prn/orders/new?supersedes={huge}")
    assert response.status_code == 404
    assert "There is no such page or record." in response.get_data(as_text=True)
