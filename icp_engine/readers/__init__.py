"""Read accounts, deals and customer health from CSV exports (HubSpot, Salesforce, spreadsheets).

CRM exports are messy: byte-order marks, `;` or tab delimiters, cp1252, cp1251 or Shift-JIS files
from old Excel, quoted fields with embedded newlines, HubSpot's "Company name" next to Salesforce's
"Account Name".
This package turns such a file into typed rows and reports every problem precisely:

- file-level problems (empty, binary, wrong delimiter, missing column, field over the size cap,
  mixed or undecidable encodings) raise :class:`CsvFormatError`, whose message names the file;
- row-level problems are collected as :class:`RowError` ("deals.csv line 14, column 'amount': not a
  number: 'abc'") and never raised, so an import can show all of them at once.

Deals files can have millions of rows: :class:`DealStream` types them one at a time (reading the
file twice) instead of holding them, and :func:`read_deals` is that stream collected.

Values of canonical attributes (industry, country, ...) are kept as the raw strings of the file;
normalising them is a separate pass (``icp_engine.normalize``). Line numbers are physical: the line
on which a record starts, counting blank lines and the newlines inside quoted fields.

Modules, in the order a file goes through them: ``csv_table`` (bytes to records; ``encodings``
chooses the code page of a file that is not UTF-8), ``aliases`` and ``columns`` (which column is
which field), ``values`` (typing one value), ``typed_rows`` (accounts, deals and health rows;
``account_table`` and ``deal_table`` type accounts and deals column-wise for the engine),
``account_join`` (rows to their accounts); ``results`` holds the types they share. Code outside the package imports from the package itself.
"""

from __future__ import annotations

from icp_engine.readers.account_join import (
    AccountMatcher,
    join_deals,
    join_health,
    normalize_company_name,
)
from icp_engine.readers.account_stream import BATCH_BYTES, AccountStream, NotColumnar
from icp_engine.readers.account_table import AccountTable, read_account_table
from icp_engine.readers.aliases import ACCOUNT_FIELDS, DEAL_FIELDS, HEALTH_FIELDS
from icp_engine.readers.columns import parse_map_options, resolve_columns
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES, read_table
from icp_engine.readers.deal_table import (
    DealBatch,
    DealNotes,
    DealTable,
    clean_deal_batches,
    clean_deal_findings,
    join_deal_table,
    read_deal_table,
)
from icp_engine.readers.results import (
    AccountRow,
    CsvFormatError,
    CsvTable,
    DealRow,
    HealthRow,
    JoinResult,
    ReadResult,
    RowError,
)
from icp_engine.readers.results import Stage as Stage
from icp_engine.readers.typed_rows import DealStream, read_accounts, read_deals, read_health
from icp_engine.readers.typed_rows import TypedDeal as TypedDeal
from icp_engine.readers.values import DayOrder as DayOrder
from icp_engine.readers.values import parse_dates

__all__ = [
    "ACCOUNT_FIELDS",
    "BATCH_BYTES",
    "DEAL_FIELDS",
    "DEFAULT_MAX_FIELD_BYTES",
    "HEALTH_FIELDS",
    "AccountMatcher",
    "AccountRow",
    "AccountStream",
    "AccountTable",
    "CsvFormatError",
    "CsvTable",
    "DealBatch",
    "DealNotes",
    "DealRow",
    "DealStream",
    "DealTable",
    "HealthRow",
    "JoinResult",
    "NotColumnar",
    "ReadResult",
    "RowError",
    "clean_deal_batches",
    "clean_deal_findings",
    "join_deal_table",
    "join_deals",
    "join_health",
    "normalize_company_name",
    "parse_dates",
    "parse_map_options",
    "read_account_table",
    "read_accounts",
    "read_deal_table",
    "read_deals",
    "read_health",
    "read_table",
    "resolve_columns",
]
