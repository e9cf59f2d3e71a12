"""Runs the milestone service: `python -m sanpi.milestone`."""

from sanpi.kit.serve import serve
from sanpi.milestone.app import create_app
from sanpi.milestone.settings import MilestoneSettings

if __name__ == "__main__":
    serve(create_app, MilestoneSettings())
