"""CRM connectors: the only code that knows HubSpot's and Salesforce's APIs.

Each connector turns one CRM's records into :class:`~bot.connectors.records.CrmRecord` (fields
named as the CSV importer's column mapping names them, so a sync goes through the same checks,
findings and summary as a CSV export), lists what was deleted or merged away, and writes the ICP
score back onto company/account records. Calls go through :mod:`bot.connectors.retry`: Retry-After
and 5xx answers are retried within a deadline, an expired or revoked token is never retried.
"""
