"""Pure cores (Kent lookups, permissions, roles, reference data, scoring, lifecycles) import no Flask and no
database. The test reads each module's source (it does not import it) and follows imports into other
marketplace modules, so a pure module cannot reach Flask through a helper either."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "marketplace"

# Modules that hold the app, the database session or tables.
DB_BOUND = ("marketplace.extensions", "marketplace.models", "marketplace.audit", "marketplace.dbtypes",
            "marketplace.pagination", "marketplace.email", "marketplace.templating", "marketplace.authz")
DB_BOUND_LEAVES = ("models", "services", "views", "forms")


def pure_modules() -> list[Path]:
    paths = sorted((PACKAGE / "kent").glob("*.py"))
    paths += [PACKAGE / "organisations" / "permissions.py", PACKAGE / "accounts" / "permissions.py",
              PACKAGE / "accounts" / "roles.py", PACKAGE / "organisations" / "choices.py",
              PACKAGE / "taxonomy.py"]
    scoring = PACKAGE / "evaluation" / "scoring.py"
    if scoring.exists():
        paths.append(scoring)
    paths += sorted(PACKAGE.glob("*/lifecycle.py"))
    return paths


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> list[str]:
    """Absolute names of everything a module imports (relative imports resolved)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append(target)
            # `from marketplace import extensions` imports a module, not a name.
            names += [f"{target}.{alias.name}" for alias in node.names]
    return names


def is_forbidden(name: str) -> bool:
    top = name.split(".")[0]
    if top == "flask" or top.startswith("flask_") or top in ("sqlalchemy", "werkzeug", "alembic"):
        return True
    if any(name == bound or name.startswith(bound + ".") for bound in DB_BOUND):
        return True
    parts = name.split(".")
    return parts[0] == "marketplace" and any(part in DB_BOUND_LEAVES for part in parts[1:])


def source_of(name: str) -> tuple[Path, bool] | None:
    """The file of a marketplace module, or None for a name that is not a module (an imported object)."""
    base = ROOT.joinpath(*name.split("."))
    if (base / "__init__.py").exists():
        return base / "__init__.py", True
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py"), False
    return None


def violations(path: Path) -> list[str]:
    """Forbidden imports of the module at path, following marketplace imports (not parent packages)."""
    found, seen = [], set()
    stack = [(module_name(path), path, path.name == "__init__.py", module_name(path))]
    while stack:
        module, file, is_package, chain = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in imported_names(file.read_text(), module, is_package):
            if is_forbidden(name):
                found.append(f"{chain} imports {name}")
            elif name.startswith("marketplace.") and (located := source_of(name)):
                stack.append((name, located[0], located[1], f"{chain} -> {name}"))
    return found


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_core_imports_nothing_from_flask_or_the_database(path):
    assert path.exists()
    assert violations(path) == []


def test_the_list_of_pure_modules_covers_the_kent_package_and_the_permission_modules():
    names = {module_name(p) for p in pure_modules()}
    assert {"marketplace.kent", "marketplace.kent.postcodes", "marketplace.kent.districts",
            "marketplace.organisations.permissions", "marketplace.accounts.permissions"} <= names


@pytest.mark.parametrize("source", [
    "import flask",
    "from flask import current_app",
    "from flask_login import current_user",
    "import sqlalchemy as sa",
    "from sqlalchemy.orm import Session",
    "from marketplace.extensions import db",
    "from marketplace import extensions",
    "from marketplace.organisations.models import Organisation",
    "from marketplace.audit import record",
    "from ..extensions import db",
    "def later():\n    import flask\n",
])
def test_the_checker_catches_each_kind_of_forbidden_import(tmp_path, monkeypatch, source):
    fake_root = tmp_path
    module = fake_root / "marketplace" / "kent" / "sneaky.py"
    module.parent.mkdir(parents=True)
    (fake_root / "marketplace" / "__init__.py").write_text("")
    (fake_root / "marketplace" / "kent" / "__init__.py").write_text("")
    module.write_text(source)
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    assert violations(module), source


def test_the_checker_follows_imports_into_other_marketplace_modules(tmp_path, monkeypatch):
    (tmp_path / "marketplace" / "kent").mkdir(parents=True)
    (tmp_path / "marketplace" / "__init__.py").write_text("import flask\n")  # parent packages are not followed
    (tmp_path / "marketplace" / "kent" / "__init__.py").write_text("")
    (tmp_path / "marketplace" / "helper.py").write_text("from flask import g\n")
    clean = tmp_path / "marketplace" / "kent" / "clean.py"
    clean.write_text("from dataclasses import dataclass\nfrom . import __name__ as _n\n")
    dirty = tmp_path / "marketplace" / "kent" / "dirty.py"
    dirty.write_text("from marketplace.helper import g\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert violations(clean) == []
    assert violations(dirty)
    assert all(v.startswith("marketplace.kent.dirty -> marketplace.helper imports flask") for v in violations(dirty))
