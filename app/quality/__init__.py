"""Who is trusted with what: gold tasks and their answers, tasks returned to one annotator, and each
annotator's quality score. A low domain (it imports no other): the queue reads it to route tasks, the
review domain writes it."""
