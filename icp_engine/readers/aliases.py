"""Which column names mean which field, so HubSpot, Salesforce and spreadsheet exports map without help."""

from __future__ import annotations

ACCOUNT_FIELDS: dict[str, list[str]] = {
    "account_id": [
        "Record ID",
        "Account ID",
        "AccountId",
        "Id",
        "Company ID",
        "hs_object_id",
        "customer_id",
    ],
    "name": [
        "Company name",
        "Account Name",
        "Name",
        "account",
        "company",
        "account_name",
        "organization",
        "organisation",
        "customer",
        "client",
    ],
    "domain": ["Company Domain Name", "Website", "Website URL", "domain", "url", "web"],
    "industry": ["Industry", "sector", "vertical", "Industry Type"],
    "employees": [
        "Number of Employees",
        "Employees",
        "NumberOfEmployees",
        "employee_count",
        "headcount",
        "company_size",
        "size",
    ],
    "annual_revenue": ["Annual Revenue", "AnnualRevenue", "revenue", "turnover"],
    "country": [
        "Country/Region",
        "Country",
        "Billing Country",
        "BillingCountry",
        "office_location",
        "hq_country",
        "headquarters",
    ],
    "region": ["Region", "Sales Region", "geo", "territory"],
    "tech_stack": ["Tech Stack", "Technologies", "Web Technologies", "technology"],
}

DEAL_FIELDS: dict[str, list[str]] = {
    "deal_id": ["Record ID", "Deal ID", "Opportunity ID", "OpportunityId", "Id", "hs_object_id"],
    "account_id": [
        "Associated Company IDs",
        "Associated Company IDs (Primary)",
        "Associated Company ID",
        "Account ID",
        "AccountId",
        "company_id",
    ],
    "account_name": [
        "Associated Company",
        "Associated Company (Primary)",
        "Account Name",
        "Account",
        "Company",
        "Company name",
        "customer",
        "client",
    ],
    "stage": ["Deal Stage", "Stage", "StageName", "Opportunity Stage", "status", "outcome"],
    "is_won": ["IsWon", "Won", "Is Won"],
    "is_closed": ["IsClosed", "Closed", "Is Closed"],
    "amount": ["Amount", "close_value", "deal_value", "value", "Amount in company currency", "deal_amount"],
    "created_date": [
        "Create Date",
        "Created Date",
        "CreatedDate",
        "created",
        "created_at",
        "engage_date",
        "open_date",
        "start_date",
    ],
    "close_date": ["Close Date", "CloseDate", "closed_at", "closed_date", "date_closed"],
}

HEALTH_FIELDS: dict[str, list[str]] = {
    "account_id": ["Record ID", "Account ID", "AccountId", "Id", "Company ID", "customer_id"],
    "account_name": ["Company name", "Account Name", "Name", "account", "company", "customer", "client"],
    "arr": ["ARR", "Annual Recurring Revenue", "current_arr"],
    "acv": ["ACV", "Annual Contract Value"],
    "tenure_months": ["Tenure (months)", "tenure", "months_as_customer", "customer_tenure"],
    "customer_since": [
        "Customer Since",
        "Became a Customer Date",
        "contract_start",
        "first_purchase_date",
        "start_date",
    ],
    "churned": ["Churned", "is_churned", "churn", "Churn Flag"],
    "churn_date": ["Churn Date", "churned_at", "cancellation_date", "cancel_date"],
    "nps": ["NPS", "NPS Score", "net_promoter_score"],
    "health_score": ["Health Score", "health", "customer_health_score"],
    "expansion_arr": ["Expansion ARR", "expansion", "upsell_arr", "expansion_revenue"],
    "referrals": ["Referrals", "referral_count", "number_of_referrals"],
}


def _key(text: str) -> str:
    """Matching key for column names: casefolded, letters and digits only."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())
