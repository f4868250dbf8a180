"""Permissions of this app (django-rules); filled in with the app."""
