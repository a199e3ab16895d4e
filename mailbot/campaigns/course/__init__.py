"""The course kind (a series of lessons in cohorts, e.g. the Hverdagsglede webinars): when its
lessons are and the steps they make (`lessons`)."""
