"""Transfers of records between authorities (Weitergaben): explicit, minimal, logged."""
