"""Pages that compose several domains (the project overview, the labeling page). This package may
import every domain and is imported by none."""
