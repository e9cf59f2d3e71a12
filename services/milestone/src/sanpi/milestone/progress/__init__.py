"""Progress: annual investment plans (with monthly and 旬 splits) and 旬/月 progress reports."""
