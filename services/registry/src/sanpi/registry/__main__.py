"""Runs the registry service: `python -m sanpi.registry`."""

from sanpi.kit.serve import serve
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings

if __name__ == "__main__":
    serve(create_app, RegistrySettings())
