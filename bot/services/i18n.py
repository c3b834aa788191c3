"""The one door through which services reach translations.

A service may say why it refuses (`DomainError(code, lambda: _("..."))`) or write the text of a
document in the reader's language; it does so with these names only, and never with a Telegram
type. `_` is evaluated where it is called, in the locale the caller entered (the i18n middleware
for an update, `i18n.use_locale` in a job or the delivery worker), so services call it inside the
lambda they hand to DomainError or while rendering, never at import time.
"""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _


def current_locale() -> str:
    """The locale the caller entered."""
    return get_i18n().current_locale


__all__ = ["_", "current_locale"]
