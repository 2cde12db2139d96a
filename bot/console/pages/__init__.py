"""The console's pages: one module per page group, listed here explicitly.

Each module declares `ROUTES` (Starlette routes, paths relative to /dinas; GET pages wrapped
in `guard.officer_page`, POST forms in `guard.officer_form`) and `NAV` (its entries in the
menu, possibly none). Templates live in bot/console/templates/<group>/, words in the catalogs
under `console.<group>.*`. Importing a module registers nothing: only this list does.
"""

from __future__ import annotations

from bot.console.pages import (
    access,
    announcements,
    bimtek,
    companies,
    exports,
    ikm,
    ledger,
    needs,
    overview,
    registry,
)

PAGE_MODULES = (
    access,
    overview,
    ikm,
    companies,
    ledger,
    needs,
    bimtek,
    announcements,
    registry,
    exports,
)
