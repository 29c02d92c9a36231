"""Screens: the profile picker, the training dashboard, and small modal dialogs."""
