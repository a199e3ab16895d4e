"""The update kind: a one-off email to a segment (participants or volunteers of earlier campaigns, or
the panel audience filters). `model` holds the `Update`, `file` its schedules/ file."""
