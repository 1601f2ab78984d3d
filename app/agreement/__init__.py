"""Agreement between the independent copies of overlap tasks, and their adjudication."""
