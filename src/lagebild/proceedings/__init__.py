"""Offence proceedings (Bußgeldverfahren); for now only the pure limitation and deadline engine."""
