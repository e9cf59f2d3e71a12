"""sanpi milestone service: the lifecycle stage, milestones, progress reports and alert rules."""
