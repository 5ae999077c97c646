"""The live sales dashboard: a FastAPI service that reads gold straight from Delta (delta-rs, no Spark) and
serves a self-updating page, its JSON API, and the freshness benchmark that measures it end to end."""
