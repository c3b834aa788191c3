"""Library (§10.2): folded search, the guided form, paging, item cards, files, inline mode."""

from __future__ import annotations

from aiogram.methods import AnswerInlineQuery, SendDocument
from aiogram.types import InlineQueryResultArticle
from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services import library
from bot.services.library import Criteria, fold
from db.models.library import ItemKind, LibraryItem, LibrarySearch
from tests.conftest import App

STUDENT = DEMO_ACCOUNTS["student"]


async def _all_items(app: App) -> list[LibraryItem]:
    async with app.db.read() as session:
        items = list(await session.scalars(select(LibraryItem)))
        session.expunge_all()
        return items


async def _item(app: App, code: str) -> LibraryItem:
    async with app.db.read() as session:
        item = await session.scalar(select(LibraryItem).where(LibraryItem.code == code))
        session.expunge_all()
        return item


# ---- services ---------------------------------------------------------------------------------


def test_fold_meets_kazakh_russian_and_latin_halfway() -> None:
    assert fold("Қазақ тілі") == fold("казак тили") == "казак тили"
    assert fold("Ёлка") == fold("елка")
    assert fold("ӘҒҚҢӨҰҮҺІ") == "агкноуухи"
    # A Latin "о" and "с" typed inside a Russian word.
    assert fold("Coфия") == fold("София")
    assert fold("  Python —  3.12 ") == fold("python 3 12")


async def test_upsert_creates_updates_and_reports_bad_rows(app: App) -> None:
    rows = [
        {"code": "X-1", "title": "Алгебра", "language": "ru", "kind": "paper", "copies_total": 3},
        {"code": "X-2", "title": "Геометрия", "language": "kazakh", "kind": "electronic"},
        {"code": "", "title": "No code", "language": "en", "kind": "paper"},
        {"code": "X-3", "title": "Bad kind", "language": "en", "kind": "scroll"},
        {
            "code": "X-4",
            "title": "Bad copies",
            "language": "en",
            "kind": "paper",
            "copies_total": 2,
            "copies_free": 5,
        },
    ]
    async with app.db.write() as session:
        report = await library.upsert_items(session, rows)
    assert (report.created, report.updated) == (2, 0)
    assert [(n, problem) for n, _code, problem in report.errors] == [
        (3, "no_code"),
        (4, "bad_kind"),
        (5, "bad_copies"),
    ]
    async with app.db.write() as session:
        report = await library.upsert_items(
            session,
            [{"code": "X-1", "title": "Сызықтық алгебра", "language": "kk", "kind": "paper"}],
        )
    assert (report.created, report.updated) == (0, 1)
    async with app.db.read() as session:
        item = await session.scalar(select(LibraryItem).where(LibraryItem.code == "X-1"))
        assert item.language == "kk"
        assert item.search_title == "сызыктык алгебра"
        assert item.copies_free == 0
        second = await session.scalar(select(LibraryItem).where(LibraryItem.code == "X-2"))
        assert second.language == "kk" and second.kind == ItemKind.electronic


async def test_search_combines_fields_and_ignores_wildcards(demo_app: App) -> None:
    items = await _all_items(demo_app)
    assert len(items) >= 300
    async with demo_app.db.read() as session:
        found, total = await library.search(
            session, Criteria(author="Иванов", language="ru", kind="paper"), 0, 500
        )
        found_ids = {i.id for i in found}
    expected = {
        i.id
        for i in items
        if "иванов" in fold(i.authors) and i.language == "ru" and i.kind == ItemKind.paper
    }
    assert expected and found_ids == expected and total == len(expected)
    # LIKE wildcards never reach the query: folding keeps letters and digits only.
    assert library.words("%_%") == []


# ---- the bot ----------------------------------------------------------------------------------


async def test_guided_search_with_three_parameters(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("📚 Library")
    screen = client.last_message().text
    assert "Items in the catalogue: 308" in screen

    await client.click("🔎 Search by fields")
    await client.click("Title")
    # Typed without Kazakh letters: still finds "оқулық" and "оқу құралы".
    await client.send("оку")
    await client.click("Language")
    await client.click("Kazakh")
    await client.click("Kind")
    await client.click("electronic")
    form = client.last_message().text
    assert "оку" in form and "Kazakh" in form and "electronic" in form
    await client.click("🔍 Search")

    items = await _all_items(demo_app)
    expected = sorted(
        (
            i
            for i in items
            if "оку" in fold(i.title) and i.language == "kk" and i.kind == ItemKind.electronic
        ),
        key=lambda i: (i.title, i.id),
    )
    assert expected
    results = client.last_message().text
    assert f"Found: {len(expected)}" in results
    assert expected[0].title in results

    # Open the first result: an electronic item offers its file.
    await client.click("1")
    card = client.last_message().text
    assert expected[0].title in card and expected[0].code in card
    requests = await client.click("📥 Get the file")
    sent = [r for r in requests if isinstance(r, SendDocument)]
    assert len(sent) == 1
    document = client.last_message()
    assert document.document_name == f"{expected[0].code}.pdf"
    assert document.document_bytes.startswith(b"%PDF")
    async with demo_app.db.read() as session:
        cached = await session.get(LibraryItem, expected[0].id)
        assert cached.file_id == document.file.file_id
    # The second request reuses Telegram's copy instead of typesetting again.
    await client.click("📥 Get the file", message=client.messages()[-2])
    again = client.session.requests_of(SendDocument)[-1]
    assert again.document == document.file.file_id


async def test_quick_search_pages_with_a_count(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("📚 Library")
    await client.send("учебник")
    items = await _all_items(demo_app)
    expected = [i for i in items if "учебник" in fold(i.title)]
    assert len(expected) > library.PAGE_SIZE
    text = client.last_message().text
    assert f"Found: {len(expected)}" in text
    pages = library.pages_for(len(expected))
    assert f"1/{pages}" in client.buttons()
    await client.click("›")
    page2 = client.last_message().text
    assert f"{library.PAGE_SIZE + 1}." in page2
    assert f"2/{pages}" in client.buttons()


async def test_paper_item_shows_shelf_and_free_copies(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("📚 Library")
    await client.send("абай жолы")
    await client.click("1")
    item = await _item(demo_app, "KZ-0001")
    card = client.last_message().text
    assert f"Free copies: {item.copies_free} of {item.copies_total}" in card
    assert item.location in card
    assert "📥 Get the file" not in client.buttons()


async def test_forged_and_foreign_buttons_are_refused(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    other = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await other.click("📚 Library")
    await other.send("python")
    async with demo_app.db.read() as session:
        foreign = await session.scalar(select(func.max(LibrarySearch.id)))
    await client.click("📚 Library")
    await client.click_data(f"pg:lib:{foreign}:1")
    assert "no longer available" in client.last_answer().text
    await client.click_data("lib:get::0:999999:0")
    assert "no electronic copy" in client.last_answer().text
    await client.click_data("lib:item::0:999999:0")
    assert "no longer in the catalogue" in client.last_message().text
    # A huge text is refused politely.
    await client.click("« Back")
    await client.send("x" * 5000)
    assert "too long" in client.last_message().text
    await client.send("%_%")
    assert "at least one letter or digit" in client.last_message().text


async def test_inline_mode_returns_matching_books_and_pages(demo_app: App) -> None:
    stranger = demo_app.client()
    answer = await stranger.inline("алгебра")
    assert isinstance(answer, AnswerInlineQuery)
    assert answer.results == [] and answer.button is not None

    client = await demo_app.signed_in(*STUDENT)
    answer = await client.inline("алгебра")
    items = await _all_items(demo_app)
    expected = sorted(
        (i for i in items if "алгебра" in fold(i.title) or "алгебра" in fold(i.authors)),
        key=lambda i: (i.title, i.id),
    )
    assert answer is not None and len(answer.results) == len(expected)
    first = answer.results[0]
    assert isinstance(first, InlineQueryResultArticle)
    assert first.title == expected[0].title
    assert expected[0].code in first.input_message_content.message_text
    assert answer.next_offset == ""

    # A broad query: 50 now, the rest on the next offset.
    broad = [i for i in items if "учебник" in fold(i.title)]
    everything = await client.inline("")
    assert len(everything.results) == 50 and everything.next_offset == "50"
    more = await client.inline("", offset="50")
    assert more.results[0].id != everything.results[0].id
    assert len(broad) < len(items)


async def test_deep_link_from_a_shared_card_opens_the_item(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    item = await _item(demo_app, "CS-0003")
    await client.send(f"/start lib_{item.id}")
    assert "Introduction to Algorithms" in client.last_message().text
