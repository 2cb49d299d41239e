"""Discovered themes get readable, unique labels that follow the theme until staff name it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import StaffUser, Theme
from domain.runtime import Runtime
from tests.conftest import CHAIR_EMAIL, STAFF_EMAIL, STAFF_PASSWORD
from triage.decisions import DecisionError, rename_theme
from workers.pipeline.themes import ThemeAssignment
from workers.theme_store import ThemeMap


def _found(slug: str, label: str) -> ThemeAssignment:
    return ThemeAssignment(slug=slug, label=label, score=0.5, discovered=True)


def _labels(rt: Runtime) -> list[str]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(Theme.label).where(Theme.discovered).order_by(Theme.id)))


def test_discovered_labels_are_readable_unique_and_follow_the_theme(rt: Runtime) -> None:
    themes = ThemeMap()
    with rt.db.transaction() as session:
        first = themes.row_for(session, _found("new:3", ""))
        second = themes.row_for(session, _found("new:4", "Lorries, speeding"))
        third = themes.row_for(session, _found("new:5", "Lorries, speeding"))
    assert _labels(rt) == [
        "New theme 3 (not named yet)",
        "New theme: Lorries, speeding",
        "New theme: Lorries, speeding (2)",
    ]
    assert "new:" not in " ".join(_labels(rt))
    with rt.db.transaction() as session:  # the first theme grows and gets words
        assert themes.row_for(session, _found("new:3", "Off-road bikes")) == first
        themes.row_for(session, _found("new:4", "Lorries, speeding"))  # unchanged: no rename
    assert _labels(rt)[0] == "New theme: Off-road bikes"
    assert _labels(rt)[1] == "New theme: Lorries, speeding"

    rename_theme(rt, second, "HGVs in villages", actor_id=None)  # type: ignore[arg-type]
    with rt.db.transaction() as session:
        themes.row_for(session, _found("new:4", "Lorries, school"))
    assert _labels(rt)[1] == "HGVs in villages"  # staff's name stays
    try:
        rename_theme(rt, third, "hgvs in villages", actor_id=None)  # type: ignore[arg-type]
    except DecisionError as exc:
        assert "already has that name" in str(exc)
    else:
        raise AssertionError("a duplicate theme name was accepted")


def test_staff_name_a_discovered_theme_on_the_themes_page(
    client: FlaskClient, rt: Runtime, staff_user: StaffUser, chair_user: StaffUser
) -> None:
    with rt.db.transaction() as session:
        found = ThemeMap().row_for(session, _found("new:7", "Lorries, speeding"))
        session.add(Theme(slug="roads", label="Road safety"))
    client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    page = client.get("/triage/themes").get_data(as_text=True)
    assert "New theme: Lorries, speeding" in page and "Found by the worker" in page
    clash = client.post(f"/triage/themes/{found}", data={"label": "road safety"})
    assert clash.status_code == 400
    assert "Another theme already has that name" in clash.get_data(as_text=True)
    done = client.post(f"/triage/themes/{found}", data={"label": "HGVs in villages"})
    assert done.status_code == 302
    assert "HGVs in villages" in client.get("/triage/themes").get_data(as_text=True)

    chair = client.application.test_client()
    chair.post("/triage/login", data={"email": CHAIR_EMAIL, "password": STAFF_PASSWORD})
    read = chair.get("/triage/themes").get_data(as_text=True)
    assert "HGVs in villages" in read and "Rename" not in read
