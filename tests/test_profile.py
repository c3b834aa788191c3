"""The profile screen (§12)."""

from __future__ import annotations

from bot.demo.core import DEMO_ACCOUNTS
from bot.services.profile import student_profile
from tests.conftest import App
from tests.test_journal import demo_student

STUDENT = DEMO_ACCOUNTS["student"]


async def test_profile_shows_the_record(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        profile = await student_profile(session, student.id)
    assert profile is not None and profile.advisor is not None
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Profile")
    text = client.last_message().text
    group = profile.group
    for expected in (
        "Name: Қасымов Әлихан Ұлықбекұлы",
        f"Student ID: {profile.student_no}",
        f"Faculty: {group.programme.faculty.name_en}",
        f"Programme: {group.programme.code} {group.programme.name_en}",
        f"Group: {group.code}",
        f"Year of study: {group.course}",
        f"Form of study: {group.study_form.name_en}",
        f"Advisor: {profile.advisor.user.full_name}",
        f"Phone: {profile.phone}",
        f"Email: {profile.email}",
    ):
        assert expected in text
    assert client.buttons() == ["🏠 Home"]


async def test_profile_in_kazakh(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT, language="Қазақша")
    await client.click("Профиль")
    text = client.last_message().text
    assert "Аты-жөні: Қасымов Әлихан Ұлықбекұлы" in text
    assert "Оқу нысаны: Күндізгі" in text
