"""The panes of the training screen, each drawing itself from the run model."""
