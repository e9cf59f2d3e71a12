"""sanpi.office: sheets read within bounds, written without formulas; templates; A4 PDFs."""
