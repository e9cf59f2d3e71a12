"""Listings: a project on period N's 签约/开工/投产 list (many over a project's life)."""
