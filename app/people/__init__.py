"""The admin's desk for people: users and roles, project membership, the audit log, and each annotator's
record (throughput, time per label, skips, flags, and sections other domains add)."""
