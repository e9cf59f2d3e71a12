"""sanpi registry service: the ledger (台账) of projects, periods, listings and targets."""
