"""Background work: the RQ worker process. Imports the engine, never the web layer."""
