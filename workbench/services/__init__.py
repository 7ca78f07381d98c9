"""The service layer: the use cases the apps and the command line call.

Each module reads what a use case needs from the store, hands plain data to the domain packages
(``skills``, ``recommend``, ``practice``, ``cohorts``, ``analytics``, ``sim``) and writes the result
back. Nothing is imported here eagerly, so a page that needs one service loads only that one.

| module | use cases |
| --- | --- |
| ``assessment`` | start, answer, submit and rescore assessments (self and other raters) |
| ``invitations`` | invite raters, list, remind, extend and revoke invitations |
| ``plans`` | a leader's context, serving recommendations, the current plan, moment packs |
| ``learning`` | module starts, logged time, completions, knowledge checks, plan refresh |
| ``practice`` | scenario runs and their evidence, coaching sessions and commitments |
| ``cohorts`` | peer groups, classroom sessions, discussion, peer feedback |
| ``progress`` | personal and cohort analytics from the store |
| ``calibration`` | publishing, activating and rolling back calibrations; response export |
| ``psychometrics`` | the psychometrician's notebook: stored answer sheets as model data |
| ``experiments`` | running experiment configs with papermill and Dask |
| ``identity`` | signed, expiring links (imports nothing else of the workbench) |
"""
