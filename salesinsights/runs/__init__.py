"""The runs of the jobs: each the extract, transform and load of one job over the layers below it."""
