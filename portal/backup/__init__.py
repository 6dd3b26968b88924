"""Backup and restore of the whole database (``flask backup create|restore``)."""
