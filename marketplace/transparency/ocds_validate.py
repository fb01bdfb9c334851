"""Validating OCDS release packages.

Offline, from the directory named by the `OCDS_SCHEMA_DIR` setting (README: `../shared/ocds` when it exists):

    standard-1__1__5-schema.zip        the standard's schema/ folder: release-package and release schemas
    extensions/<repository>-<version>/release-schema.json

Each extension the package declares (matched by its repository name in the extension URL) is applied to the
release schema as a JSON merge patch (RFC 7386), and the package is checked with jsonschema's Draft 4 validator,
formats included, the release schema found through a `referencing` registry under its own `id`. An extension the
directory does not hold is reported as an error: it cannot be checked offline. Release ids must also be unique
within each ocid.

Without the directory, libcoveocds checks the package against the published schema and extensions, which it
downloads.
"""

from __future__ import annotations

import copy
import json
import tempfile
import zipfile
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

RELEASE_PACKAGE_SCHEMA = "release-package-schema.json"
RELEASE_SCHEMA = "release-schema.json"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _standard_zip(directory: Path) -> Path:
    found = sorted(directory.glob("standard-*-schema.zip"))
    if not found:
        raise FileNotFoundError(f"No standard-*-schema.zip in {directory}")
    return found[-1]


def _core_schemas(directory: Path) -> tuple[dict, dict]:
    """The release-package and release schemas from the standard's zip."""
    with zipfile.ZipFile(_standard_zip(directory)) as archive:
        names = {Path(name).name: name for name in archive.namelist() if "/schema/" in f"/{name}"}
        return (json.loads(archive.read(names[RELEASE_PACKAGE_SCHEMA])),
                json.loads(archive.read(names[RELEASE_SCHEMA])))


def extension_folders(directory: Path) -> dict[str, Path]:
    """Each extension's folder by repository name: `ocds_bid_extension-v1.1.5` -> `ocds_bid_extension`."""
    root = directory / "extensions"
    folders = sorted(p for p in root.iterdir() if (p / RELEASE_SCHEMA).exists()) if root.is_dir() else []
    return {folder.name.split("-v")[0]: folder for folder in folders}


def folder_for(url: str, folders: dict[str, Path]) -> Path | None:
    return next((folder for name, folder in folders.items() if f"/{name}/" in url), None)


@lru_cache(maxsize=8)
def _validator(directory: str, extensions: tuple[str, ...]) -> tuple[Draft4Validator, tuple[str, ...]]:
    """A validator for packages declaring `extensions`, and the extensions it could not apply."""
    package_schema, release_schema = _core_schemas(Path(directory))
    folders = extension_folders(Path(directory))
    missing = []
    for url in extensions:
        folder = folder_for(url, folders)
        if folder is None:
            missing.append(url)
            continue
        release_schema = merge_patch(release_schema, json.loads((folder / RELEASE_SCHEMA).read_text()))
    registry = Registry().with_resource(release_schema["id"], Resource(contents=release_schema,
                                                                       specification=DRAFT4))
    validator = Draft4Validator(package_schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)
    return validator, tuple(missing)


MESSAGE_MAX = 300


def _where(error) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(package)"


def _line(error) -> str:
    """`path: message`, shortened: a message can quote a whole release."""
    message = error.message if len(error.message) <= MESSAGE_MAX else error.message[:MESSAGE_MAX - 1] + "…"
    return f"{_where(error)}: {message}"


def _duplicate_release_ids(package: dict) -> list[str]:
    releases = package.get("releases") if isinstance(package.get("releases"), list) else []
    seen = Counter((r.get("ocid"), r.get("id")) for r in releases if isinstance(r, dict))
    return [f"Release id {id_!r} appears {count} times for ocid {ocid!r}"
            for (ocid, id_), count in sorted(seen.items(), key=str) if count > 1]


def validate_offline(package: dict, directory: str) -> list[str]:
    extensions = package.get("extensions") if isinstance(package.get("extensions"), list) else []
    validator, missing = _validator(str(Path(directory).resolve()), tuple(str(e) for e in extensions))
    errors = sorted(_line(e) for e in validator.iter_errors(package))
    errors += [f"extensions: {url} is not in {directory}, so it cannot be checked offline" for url in missing]
    return errors + _duplicate_release_ids(package)


def validate_online(package: dict) -> list[str]:
    """libcoveocds, with the published schema and the declared extensions (downloaded)."""
    try:
        from libcoveocds.api import ocds_json_output
    except ImportError:
        return ["OCDS_SCHEMA_DIR is not set and libcoveocds is not installed: the package cannot be checked"]
    with tempfile.TemporaryDirectory() as output:
        context = ocds_json_output(output, json_data=package, schema_version="1.1")
    errors = [f"{e.get('path') or '(package)'}: {e.get('description')}" for e in context.get("validation_errors", [])]
    invalid = (context.get("extensions") or {}).get("invalid_extensions", [])
    return errors + [f"extensions: {url}: {problem}" for url, problem in invalid]


def schema_directory() -> str | None:
    """The configured OCDS_SCHEMA_DIR (the app's, else the configuration's default)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("OCDS_SCHEMA_DIR")
    from config import Config

    return Config.OCDS_SCHEMA_DIR


def validate_package(package: Any, schema_dir: str | None = None) -> list[str]:
    """Every problem with a release package, as `path: message` lines; an empty list when it is valid."""
    if not isinstance(package, dict) or not package:
        return ["(package): a release package is a non-empty JSON object"]
    directory = schema_dir or schema_directory()
    if directory and Path(directory).is_dir():
        return validate_offline(package, directory)
    return validate_online(package)
