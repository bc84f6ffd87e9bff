"""Thin Slack handlers, one package per kind; each module exposes `register(app, ctx)`."""

from __future__ import annotations

import importlib
import pkgutil

from slack_bolt import App

from bot.context import AppContext

KINDS = ("commands", "events", "actions", "views", "messages")


def register_all(app: App, ctx: AppContext) -> None:
    """Import every listener module under bot/listeners/<kind>/ and call its register()."""
    for kind in KINDS:
        try:
            package = importlib.import_module(f"{__name__}.{kind}")
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            register = getattr(module, "register", None)
            if register is not None:
                register(app, ctx)
