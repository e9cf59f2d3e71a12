"""The 交办事项 pages: problems of a project assigned to a responsible unit, its feedback, 办结."""
