"""The course kind (a series of lessons in cohorts, e.g. the Hverdagsglede webinars): `model` holds
the `Course`, `file` its schedules/ file, `lessons` when its lessons are and the steps they make."""
