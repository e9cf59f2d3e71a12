"""Runs the registry service: `python -m sanpi.registry` serves, `... migrate` upgrades its database."""

from sanpi.kit.serve import main
from sanpi.registry.app import create_app
from sanpi.registry.migrations import MIGRATIONS
from sanpi.registry.settings import RegistrySettings

if __name__ == "__main__":
    main(create_app, RegistrySettings(), MIGRATIONS)
