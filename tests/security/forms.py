"""The POST forms on the application's pages, read from their HTML as a browser would: where each posts, and its
fields with the values and choices the page offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

from werkzeug.exceptions import HTTPException

from tests.security.policy import POLICY
from tests.security.routes import ROUTES, Answer
from tests.security.world import ACTORS, World


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, file, email, password, ...
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    numeric: bool = False  # inputmode numeric/decimal, or a date part


@dataclass
class Form:
    actor: str
    page: str  # the page that shows the form (for its CSRF token and to look at again)
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def uploads(self) -> bool:
        return any(f.kind == "file" for f in self.fields.values())


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[Field]]] = []
        self._fields: list[Field] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self._fields = []
            self.forms.append((attrs.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and attrs.get("name"):
            name = attrs["name"]
            numeric = attrs.get("inputmode") in ("numeric", "decimal") or name.endswith(("-day", "-month", "-year"))
            self._fields.append(Field(name, attrs.get("type", "text").lower(), attrs.get("value", ""),
                                      checked="checked" in attrs, numeric=numeric))
        elif tag == "select" and attrs.get("name"):
            self._select = Field(attrs["name"], "select")
            self._fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value", ""))
            if "selected" in attrs:
                self._select.value = attrs.get("value", "")
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = Field(attrs["name"], "textarea")
            self._fields.append(self._textarea)
        elif tag == "button" and attrs.get("name"):
            self._fields.append(Field(attrs["name"], "button", attrs.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _merged(fields: list[Field]) -> dict[str, Field]:
    """One field per name: radios and checkboxes of one name become one field with its options."""
    merged: dict[str, Field] = {}
    for each in fields:
        if each.kind in ("radio", "checkbox") and each.name in merged:
            known = merged[each.name]
            known.options.append(each.value)
            known.checked = known.checked or each.checked
            known.value = each.value if each.checked else known.value
            continue
        if each.kind in ("radio", "checkbox"):
            each.options, each.value = [each.value], each.value if each.checked else ""
        merged[each.name] = each
    return merged


def forms_on(html: str, page: str, actor: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return [Form(actor, page, urljoin(page, action or page), _merged(fields)) for action, fields in parser.forms]


NOT_PAGES = (".pdf", ".csv", ".json", ".atom", "/healthz")  # routes that answer with something other than a page


def endpoint_of(world: World, action: str) -> str | None:
    """The endpoint a form posts to, or None when the address is not one of the application's."""
    try:
        return world.app.url_map.bind("localhost").match(urlsplit(action).path, method="POST")[0]
    except HTTPException:
        return None


def allowed_viewers(endpoint: str, case) -> list[str]:
    return [actor for actor in ACTORS if actor in case.allowed]


def discover(world: World, viewers: Callable[[str, Any], list[str]] = allowed_viewers) -> dict[str, list[Form]]:
    """Every POST form on every page (each page, in each case of its policy, as each person `viewers` names), by
    the endpoint it posts to; alike forms (same address and field names) counted once, for the first to see them."""
    found: dict[str, list[Form]] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for endpoint, rule in sorted(ROUTES.items()):
        if "GET" not in rule.methods or endpoint == "static" or rule.rule.endswith(NOT_PAGES):
            continue
        for case in POLICY.get(endpoint, ()):  # a route without a policy fails the authorization matrix
            for actor in viewers(endpoint, case):
                page = world.url(rule, case.scene)
                answer = Answer.of(world.client(actor).get(page))
                if answer.status == 200 and "html" in answer.content_type:
                    _collect(world, forms_on(answer.text, f"http://localhost{page}", actor), found, seen)
    return found


def _collect(world: World, forms: list[Form], found: dict[str, list[Form]], seen: set) -> None:
    for form in forms:
        key = (urlsplit(form.action).path, tuple(sorted(form.fields)))
        target = endpoint_of(world, form.action)
        if target is not None and key not in seen:
            seen.add(key)
            found.setdefault(target, []).append(form)
