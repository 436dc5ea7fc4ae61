"""Prepaid balances: buckets of money or units a line spends from, and their append-only ledger."""
