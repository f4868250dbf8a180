"""Models of this app; filled in with the app."""
