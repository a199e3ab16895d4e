"""The survey kind: questions sent to an audience, answered by reply or one click, reminders to
non-responders, results after closing. `model` holds the `Survey`, `file` its schedules/ file."""
