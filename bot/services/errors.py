"""The one domain error type: a rule said no, with a message the user can read."""

from __future__ import annotations

from collections.abc import Callable


class DomainError(Exception):
    """Raised by services; handlers or the errors handler turn it into a translated answer.

    `message` is a callable returning the translated text, evaluated in the reader's locale when
    shown, so services stay free of the request's language.
    """

    def __init__(self, code: str, message: Callable[[], str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self._message = message

    def user_message(self) -> str | None:
        return self._message() if self._message is not None else None
