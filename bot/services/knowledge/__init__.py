"""Keeping the vector store in step with SQL: what each row becomes as a document, and the sync."""
