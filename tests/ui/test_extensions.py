"""cogs/ holds extensions only, and none imports another: each can be reloaded on its own
(``reload_extension``) and the bot keeps its commands, items and forms."""

from __future__ import annotations

import ast
from pathlib import Path

import bot as composition
from core.settings import load_settings
from tests.core.test_settings import TOKEN
from ui.app import INITIAL_EXTENSIONS, VigilBot

COGS = Path(__file__).resolve().parents[2] / "cogs"


def test_no_extension_imports_another():
    for path in sorted(COGS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
            elif isinstance(node, ast.Import):
                module = ",".join(a.name for a in node.names)
            else:
                continue
            assert not module.startswith("cogs"), f"{path.name} imports {module}"


def test_every_module_in_cogs_is_an_extension():
    modules = {f"cogs.{p.stem}" for p in COGS.glob("*.py") if p.stem != "__init__"}
    assert modules == set(INITIAL_EXTENSIONS)
    for path in COGS.glob("*.py"):
        if path.stem != "__init__":
            assert "async def setup(" in path.read_text(encoding="utf-8"), path.name


async def test_each_extension_reloads_on_its_own(tmp_path):
    settings = load_settings(
        {"DISCORD_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}"}
    )
    services = await composition.build_services(settings)
    vigil = VigilBot(services)
    try:
        for extension in INITIAL_EXTENSIONS:
            await vigil.load_extension(extension)
        cogs = set(vigil.cogs)
        commands = {c.qualified_name for c in vigil.tree.walk_commands()}
        items = set(vigil._connection._view_store._dynamic_items)
        for extension in INITIAL_EXTENSIONS:
            await vigil.reload_extension(extension)
            assert set(vigil.cogs) == cogs, extension
            assert {c.qualified_name for c in vigil.tree.walk_commands()} == commands
            assert set(vigil._connection._view_store._dynamic_items) == items, extension
        assert vigil.services.dispatcher is not None  # the outbox runs again after its reload
    finally:
        for extension in reversed(INITIAL_EXTENSIONS):
            await vigil.unload_extension(extension)
        await services.store.close()
