"""Views: what a screen or a push notice says and which buttons it has.

A view is a pure function from data (service results, an outbox row's params) to text and
markup, in the current locale; it reads no database and calls no Telegram method. Handlers call a
service, then a view, then show the result; scheduler jobs and the delivery worker use the same
views and never import handlers.

Push renderers (`@renderer("<feature>.<name>")`) live in the modules of RENDERER_MODULES; the
delivery worker loads exactly these, so a process that only sends (the scheduler) needs none of
the handlers.
"""

from __future__ import annotations

import importlib
from functools import cache

RENDERER_MODULES: tuple[str, ...] = (
    "bot.views.appeals",
    "bot.views.classrooms",
    "bot.views.journal",
    "bot.views.messages",
    "bot.views.reminders",
    "bot.views.service_centre",
    "bot.views.testing",
    "bot.views.transcript",
)


@cache
def load_renderers() -> None:
    """Register every push renderer, once per process."""
    for name in RENDERER_MODULES:
        importlib.import_module(name)
