"""Runs the milestone service: `python -m sanpi.milestone` serves, `... migrate` upgrades its database."""

from sanpi.kit.serve import main
from sanpi.milestone.app import create_app
from sanpi.milestone.migrations import MIGRATIONS
from sanpi.milestone.settings import MilestoneSettings

if __name__ == "__main__":
    main(create_app, MilestoneSettings(), MIGRATIONS)
