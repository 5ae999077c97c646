"""Spark and Delta code shared by the jobs: the session, the schema and rules as columns, the transforms."""
