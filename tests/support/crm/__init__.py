"""Local stand-ins for the CRMs' REST APIs."""
