"""The application's routes as the security tests see them, and how a response is read.

`ROUTES` is read from a throwaway application when the tests are collected, so each route becomes its own test
case; the tests then request them from the module's real application (`world.app`), which has the same routes.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace import create_app
from tests.security.world import ANONYMOUS, SIGN_IN_PATH, rules_of

ROUTES = rules_of(create_app("test", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
CSRF_MESSAGE = "The form had expired or was not sent from this site"
REDIRECTS = (301, 302, 303, 307, 308)


def routes_with(method: str) -> list[str]:
    return sorted(endpoint for endpoint, rule in ROUTES.items() if method in rule.methods)


@dataclass(frozen=True)
class Answer:
    """A response read in full (streamed bodies included) and closed."""

    status: int
    location: str
    content_type: str
    body: bytes

    @classmethod
    def of(cls, response) -> "Answer":
        body = response.get_data()
        response.close()
        return cls(response.status_code, response.headers.get("Location", ""),
                   response.headers.get("Content-Type", ""), body)

    @property
    def to_sign_in(self) -> bool:
        return self.status in REDIRECTS and self.location.split("?")[0].endswith(SIGN_IN_PATH)

    @property
    def allowed(self) -> bool:
        return self.status == 200 or (self.status in (302, 303) and not self.to_sign_in)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __str__(self) -> str:
        return f"{self.status}" + (f" to {self.location}" if self.location else "")


def csrf_token(client, actor: str) -> str:
    """A valid CSRF token for the client's session, read from a page as a browser would (every page has the
    sign-out form for someone signed in; the sign-in page has one for everyone else)."""
    return client.csrf_token("/sign-in" if actor == ANONYMOUS else "/accessibility")
