"""Targets: annual goals per scope (签约额, 新开工投资额, 制造业签约额/个数)."""
