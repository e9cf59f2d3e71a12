"""sanpi-admin: the commands that need the service kit (and so FastAPI, SQLAlchemy, aiokafka),
kept out of the `sanpi` client so that the SDK and the command line install alone."""
