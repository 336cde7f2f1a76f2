"""The house's layering, checked by reading the code: no lower app imports a higher one, and the pages composed at
the top (crm) and every app's views, card and API read other apps through their selectors, never their models.

Plain Python over the AST of the source files: no database, no Django import machinery, so a violation shows as a
file, a line and the import."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first (DESIGN.md). Apps on one level (loyalty, feedback) are siblings and do not import each other.
LAYERS: dict[str, int] = {
    "shop": 0,
    "customers": 1,
    "orders": 2,
    "scoring": 3,
    "messaging": 4,
    "loyalty": 5,
    "feedback": 5,
    "analytics": 6,
    "crm": 7,
    # The demo shop's data generators sit above the whole house: they write through every app's models and
    # services, and no app imports them, so none of it is on a request's path (issue #11).
    "demo": 8,
}

# shop is the bottom of the house and its models are its shared helpers: ShopSettings.load() is how every app reads
# the shop's currency, time zone and margin, and User is the staff account every page checks. Nothing to hide.
SHARED_MODELS = {"shop.models"}

# Imports of another app's models that stay, each with its reason. (module, imported module).
ALLOWED_MODEL_IMPORTS: dict[tuple[str, str], str] = {
    ("crm/call/forms.py", "customers.models"): "the call form's outcome and direction choices (TextChoices)",
}


def _python_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, *, with_type_checking: bool) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import in ``path``, lazy ones inside functions included; ``from a import
    models`` counts as ``a.models``. Imports under ``if TYPE_CHECKING:`` only name a type for annotations."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped: set[int] = set()
    if not with_type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                skipped.update(id(child) for statement in node.body for child in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _app_of(module: str) -> str:
    return module.split(".")[0]


def _is_page_module(path: Path) -> bool:
    """A module that serves pages or the API, or supplies a card panel: it must read through selectors."""
    name = path.stem
    return (
        name in {"card", "api"}
        or name.startswith(("views", "api_"))
        or "views" in path.parts[:-1]
        or "api" in path.parts[:-1]
    )


def _model_imports_across_apps() -> list[str]:
    found = []
    for app in LAYERS:
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in _python_files(folder):
            relative = path.relative_to(ROOT).as_posix()
            if app != "crm" and not _is_page_module(path.relative_to(folder)):
                continue
            for line, module in _imports(path, with_type_checking=False):
                other = _app_of(module)
                if other == app or other not in LAYERS or not module.endswith(".models"):
                    continue
                if module in SHARED_MODELS or (relative, module) in ALLOWED_MODEL_IMPORTS:
                    continue
                found.append(f"{relative}:{line} imports {module}")
    return sorted(set(found))


def test_crm_and_every_page_read_other_apps_through_their_selectors() -> None:
    assert _model_imports_across_apps() == []


def test_no_app_imports_a_higher_or_sibling_app() -> None:
    found = []
    for app, level in LAYERS.items():
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in _python_files(folder):
            for line, module in _imports(path, with_type_checking=True):
                other = _app_of(module)
                if other != app and other in LAYERS and LAYERS[other] >= level:
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}")
    assert sorted(set(found)) == []


def test_no_app_imports_the_demo_data() -> None:
    """The rule above, said on its own so a failure names it: domain apps (and crm) never import ``demo``."""
    found = []
    for app in LAYERS:
        if app == "demo" or not (ROOT / app).is_dir():
            continue
        for path in _python_files(ROOT / app):
            for line, module in _imports(path, with_type_checking=True):
                if _app_of(module) == "demo":
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}")
    assert found == []


def test_the_allow_list_names_only_imports_that_exist() -> None:
    """An allowed import that is gone should leave the list, or the list would keep excusing a future one."""
    present = set()
    for relative, module in ALLOWED_MODEL_IMPORTS:
        path = ROOT / relative
        if path.exists() and any(m == module for _, m in _imports(path, with_type_checking=False)):
            present.add((relative, module))
    assert present == set(ALLOWED_MODEL_IMPORTS)
