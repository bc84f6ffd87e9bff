"""Live CRM sync: connect a workspace to HubSpot or Salesforce, sync records in, write scores back.

``connect`` checks credentials with one call and stores them encrypted. ``sync`` reads what changed
since the last sync through the workspace's connector, stages it as CSV files with the importer's
own column names, and applies accounts, deals and removals in one transaction through the CSV
import service (same checks, findings and summary as an upload); then ``write_back`` puts the
approved ICP's score, tier and version onto the records whose values changed.
"""
