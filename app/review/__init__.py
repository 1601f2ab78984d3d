"""Reviews of submitted annotations with a per-project error taxonomy, gold tasks and quality scores."""
