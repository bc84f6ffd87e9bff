"""ICP review use cases: reminder cadences, the reminders themselves, the review kit and its chart."""
