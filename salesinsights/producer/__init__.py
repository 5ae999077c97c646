"""The landing-folder producer: every landing file's events onto the raw topic, once, in one transaction."""
