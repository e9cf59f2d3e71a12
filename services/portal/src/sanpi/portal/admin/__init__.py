"""管理 beyond accounts: periods and their lists, the ledger's import (with a dry run) and export."""
