"""Import and export of the ledger as CSV or XLSX sheets, Chinese or English headers."""
