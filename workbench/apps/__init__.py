"""ipywidgets components and the leader/cohort app assembly for Voilà."""
