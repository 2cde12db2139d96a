"""Importing the Dinas's registry of IKM (`sinergi import ikm`).

sheets (XLSX/CSV to rows of cells) -> headers (the heading row and its columns) -> cells
(each row read with the chat's parsers) -> reading (the whole sheet) -> plan (what an import
would do; no writes) -> apply (batches of writes). Nothing here formats text for people:
the command line does.
"""

from bot.registry.apply import Applied, ImportFile, apply_plan, was_imported
from bot.registry.cells import FIELDS, ParsedRow, Problem
from bot.registry.headers import UnknownField, load_header_words, parse_mapping
from bot.registry.plan import Action, Plan, RowPlan, plan_import
from bot.registry.reading import NoTable, Sheet, read_registry, read_sheet
from bot.registry.sheets import UnreadableFile, file_hash

__all__ = [
    "FIELDS",
    "Action",
    "Applied",
    "ImportFile",
    "NoTable",
    "ParsedRow",
    "Plan",
    "Problem",
    "RowPlan",
    "Sheet",
    "UnknownField",
    "UnreadableFile",
    "apply_plan",
    "file_hash",
    "load_header_words",
    "parse_mapping",
    "plan_import",
    "read_registry",
    "read_sheet",
    "was_imported",
]
