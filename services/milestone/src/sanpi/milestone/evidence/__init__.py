"""Evidence: photos of a project's site uploaded as proof of its milestones (开工照片, 投产照片)."""
