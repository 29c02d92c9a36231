"""The Textual dashboard. Only this package imports Textual; the engine never imports it."""
