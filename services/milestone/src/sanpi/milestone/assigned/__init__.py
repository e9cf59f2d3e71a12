"""交办事项 (assigned issues): a project's problems assigned to a responsible unit, their feedback
and their closing out (销号), with deadlines by the 13710 rule."""
